"""The periods a scheme is scored over, in words, for the period pickers of the scores,
reconciliation and what-if pages (never a typed ``2017Q4``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from duban.evaluation.models import Scheme
from duban.text import period_in_words


def scheme_periods(scheme: Scheme) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group heading, [(period id, period in words)]): the year, its quarters, its months."""
    year = scheme.year
    quarters = [f"{year}Q{n}" for n in range(1, 5)]
    months = [f"{year}{n:02d}" for n in range(1, 13)]
    return [
        (_("Year"), [(str(year), period_in_words(str(year)))]),
        (_("Quarters"), [(p, period_in_words(p)) for p in quarters]),
        (_("Months"), [(p, period_in_words(p)) for p in months]),
    ]
