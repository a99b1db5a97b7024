"""`duban year_to_date verify|rebuild`: check the stored year-to-date totals, or write them anew."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from duban.indicators.models import Indicator
from duban.orgs.models import OrgUnit
from duban.reporting import year_to_date
from duban.reporting.models import YearToDateTotal

SHOWN = 100  # differences printed; the count covers them all


class Command(BaseCommand):
    help = (
        "Work with the stored year-to-date totals: 'verify' compares them with the approved "
        "and locked monthly figures, 'rebuild' writes them anew from those figures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "rebuild"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rebuild":
            with transaction.atomic():
                written = year_to_date.rebuild()
            self.stdout.write(_("year-to-date totals rebuilt: %(rows)d rows") % {"rows": written})
            return
        differences = year_to_date.verify()
        total = YearToDateTotal.objects.count()
        if differences:
            shown = differences[:SHOWN]
            units = dict(
                OrgUnit.objects.filter(pk__in={d.unit_id for d in shown}).values_list("pk", "code")
            )
            indicators = dict(
                Indicator.objects.filter(pk__in={d.indicator_id for d in shown}).values_list(
                    "pk", "code"
                )
            )
            for d in shown:
                self.stderr.write(
                    _("%(unit)s %(indicator)s %(month)s: stored %(stored)s, expected %(expected)s")
                    % {
                        "unit": units.get(d.unit_id, d.unit_id),
                        "indicator": indicators.get(d.indicator_id, d.indicator_id),
                        "month": d.month,
                        "stored": _shown(d.stored),
                        "expected": _shown(d.expected),
                    }
                )
            if len(differences) > SHOWN:
                self.stderr.write(_("… and %(count)d more") % {"count": len(differences) - SHOWN})
            raise CommandError(
                _(
                    "year-to-date totals DIFFER from the figures: %(count)d difference(s) in "
                    "%(rows)d rows; 'duban year_to_date rebuild' writes them anew"
                )
                % {"count": len(differences), "rows": total}
            )
        self.stdout.write(
            _("year-to-date totals agree with the figures: %(rows)d rows") % {"rows": total}
        )


def _shown(total: year_to_date.Total | None) -> str:
    if total is None:
        return _("no row")
    return _("%(total)s over %(months)d months") % {"total": total[0], "months": total[1]}
