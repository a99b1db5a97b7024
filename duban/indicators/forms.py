"""The office's form for an indicator definition."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from duban.indicators.models import Indicator
from duban.orgs.models import Kind, Level

RECORD_DEFAULTS: dict[str, Any] = {
    "record_measure": "count",
    "record_start_month": 1,
    "record_start_day": 1,
}


class IndicatorForm(forms.ModelForm):
    levels = forms.MultipleChoiceField(
        label=_("reporting levels"),
        choices=Level.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    kinds = forms.MultipleChoiceField(
        label=_("reporting kinds"),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    division_code = forms.CharField(
        label=_("owning division (code)"), required=False, max_length=32
    )

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name_zh",
            "name_en",
            "description",
            "unit_of_measure",
            "value_type",
            "decimals",
            "direction",
            "period_type",
            "time_aggregation",
            "unit_aggregation",
            "min_value",
            "max_value",
            "levels",
            "kinds",
            "division_reports",
            "line",
            "formula",
            "record_type",
            "record_measure",
            "record_class",
            "record_start_month",
            "record_start_day",
            "sort_order",
            "is_active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "formula": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "formula" in self.fields:
            # The example is what one types: shown as code, not as words.
            self.fields["formula"].help_text = format_html(
                str(_("Leave empty for an entered indicator. Example: {example}")),
                example=format_html("<code>{}</code>", "case.solved / case.filed * 100"),
            )
        # The record rule's fields are optional on the page: left out, their defaults hold
        # (count, the calendar year), as in the API.
        for name in RECORD_DEFAULTS:
            if name in self.fields:
                self.fields[name].required = False
        if "record_type" in self.fields:
            self.fields["record_type"].help_text = _(
                "Choose a record type for an indicator counted from business records: its "
                "figure is proposed to the reporter, who confirms or corrects it. Leave the "
                "formula empty then."
            )
            self.fields["record_start_day"].help_text = _(
                "The statistical year of the scheme that scores it (21 December: month 12, day 21)."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, default in RECORD_DEFAULTS.items():
            if name in self.fields and data.get(name) in (None, ""):
                data[name] = default
        return data
