"""The office's forms: a new document (series and period from pickers), its text parts."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from duban.bulletins.kinds import TextPart
from duban.bulletins.models import DocumentKind, Series
from duban.periods import PeriodType, parse_period
from duban.text import period_in_words


def period_choices(series: QuerySet[Series], today: date) -> list[tuple[str, str]]:
    """The months and quarters of the series' schemes' years that have begun, newest first."""
    ids: set[str] = set()
    for s in series:
        if s.scheme is None:
            continue
        year = s.scheme.year
        for month in range(1, 13):
            ids.add(f"{year}{month:02d}")
        for quarter in range(1, 5):
            ids.add(f"{year}Q{quarter}")
    started = [p for p in ids if parse_period(p).start <= today]
    started.sort(key=lambda p: (parse_period(p).end, parse_period(p).type is PeriodType.QUARTERLY))
    return [(p, period_in_words(p)) for p in reversed(started)]


class NewDocumentForm(forms.Form):
    series = forms.ModelChoiceField(queryset=Series.objects.none(), label=_("Series"))
    period = forms.ChoiceField(label=_("Month or quarter"), choices=())

    def __init__(self, *args: Any, series: QuerySet[Series], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        usable = series.exclude(kind=DocumentKind.DISPATCH)
        field = self.fields["series"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = usable
        field.label_from_instance = lambda s: f"{s.authority} · {s.get_kind_display()}"  # type: ignore[method-assign,assignment]
        period = self.fields["period"]
        assert isinstance(period, forms.ChoiceField)
        period.choices = period_choices(usable, today)


class TextsForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    date_written = forms.DateField(
        label=_("Date written"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, parts: list[TextPart], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for part in parts:
            self.fields[part.key] = forms.CharField(
                label=part.label,
                required=False,
                widget=forms.Textarea(attrs={"rows": part.rows}),
                max_length=5000,
            )
        self.part_keys = [p.key for p in parts]
