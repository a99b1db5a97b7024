"""Meeting page forms: shapes only; the services check rights and rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from duban.meetings.models import Mechanism, Meeting
from duban.orgs.models import OrgUnit
from duban.periods import PeriodType, periods_between
from duban.tasks.forms import DATE, UnitChoice, UnitsChoice
from duban.text import period_in_words


class MeetingForm(forms.ModelForm):
    unit = UnitChoice(queryset=OrgUnit.objects.none(), label=_("convening unit"))
    participants = UnitsChoice(
        queryset=OrgUnit.objects.none(),
        required=False,
        label=_("participating units"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    class Meta:
        model = Meeting
        fields = [
            "unit",
            "kind",
            "title",
            "held_on",
            "main_venue",
            "branch_venues",
            "participants",
            "agenda",
        ]
        widgets = {
            "held_on": DATE,
            "branch_venues": forms.Textarea(attrs={"rows": 3}),
            "agenda": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, units: Any, editing: bool = False, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["participants"].queryset = units  # type: ignore[attr-defined]
        if editing:
            del self.fields["unit"]

    def _post_clean(self) -> None:
        pass


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=_("minutes"), required=False, widget=forms.Textarea(attrs={"rows": 10})
    )


class DecisionForm(forms.Form):
    text = forms.CharField(
        label=_("decision"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The first line becomes the task's title."),
    )
    lead_unit = UnitChoice(queryset=OrgUnit.objects.none(), label=_("lead unit"))
    partners = UnitsChoice(
        queryset=OrgUnit.objects.none(),
        required=False,
        label=_("co-operating units"),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    responsible = forms.CharField(label=_("responsible person"), required=False, max_length=100)
    due_date = forms.DateField(label=_("due date"), widget=DATE)
    supervise = forms.BooleanField(
        label=_("supervise it as a task now"), required=False, initial=True
    )

    def __init__(self, *args: Any, units: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["lead_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["partners"].queryset = units  # type: ignore[attr-defined]


class CadenceForm(forms.Form):
    mechanism = forms.ChoiceField(label=_("mechanism"), choices=Mechanism.choices)
    since = forms.DateField(label=_("since"), widget=DATE)
    active = forms.BooleanField(label=_("active"), required=False, initial=True)


class HeldForm(forms.Form):
    mechanism = forms.ChoiceField(label=_("mechanism"), choices=Mechanism.choices)
    period = forms.ChoiceField(label=_("period"))
    held_on = forms.DateField(label=_("held on"), widget=DATE)
    reference = forms.CharField(
        label=_("reference (e.g. document number)"), required=False, max_length=100
    )

    def __init__(self, *args: Any, today: date | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["period"].choices = recent_periods(today or timezone.localdate())  # type: ignore[attr-defined]


def recent_periods(today: date, years: int = 2) -> list[tuple[str, list[tuple[str, str]]]]:
    """The months and quarters of the last `years` years up to today's, newest first, in words."""
    start = date(today.year - years + 1, 1, 1)
    return [
        (
            str(label),
            [
                (p.id, period_in_words(p.id))
                for p in reversed(periods_between(kind, start, date(today.year, 12, 31)))
                if p.start <= today
            ],
        )
        for kind, label in (
            (PeriodType.MONTHLY, _("Months")),
            (PeriodType.QUARTERLY, _("Quarters")),
        )
    ]
