"""`duban bulletin`: generate (and optionally issue) a document from the command line.

    duban bulletin SX 201711                      # the monthly bulletin's draft, files in .
    duban bulletin SX 2017Q4 --kind quarterly --out /tmp/docs
    duban bulletin SX 201711 --issue              # number it and publish it

Prints the files written. Runs as the system actor (named in the audit trail, with this
command as the entry's source), as every command does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from duban.audit.context import acting_as
from duban.bulletins import render, services
from duban.bulletins.models import DocumentKind, Series
from duban.errors import DubanError
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM


class Command(BaseCommand):
    help = "Generate a monthly bulletin or quarterly review as DOCX, PDF and XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("unit", help="code of the issuing unit (SX)")
        parser.add_argument("period", help="a month (201711) or a quarter (2017Q4)")
        parser.add_argument(
            "--kind",
            choices=[DocumentKind.MONTHLY.value, DocumentKind.QUARTERLY.value],
            default=DocumentKind.MONTHLY.value,
        )
        parser.add_argument("--out", default=".", help="folder for the files (default: here)")
        parser.add_argument(
            "--format", action="append", choices=sorted(render.CONTENT_TYPES), dest="formats"
        )
        parser.add_argument("--issue", action="store_true", help="number and publish it")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = OrgUnit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(_("no unit with the code %(code)s") % {"code": options["unit"]})
        series = Series.objects.filter(issuer=unit, kind=options["kind"]).first()
        if series is None:
            raise CommandError(
                _("%(unit)s has no series of this kind: set one up on the bulletins page")
                % {"unit": unit.name}
            )
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        with acting_as(source="duban bulletin", reason="document from the command line"):
            try:
                bulletin = services.create_draft(series, user=SYSTEM, period=options["period"])
                if options["issue"]:
                    bulletin = services.issue(bulletin, user=SYSTEM)
            except DubanError as error:
                raise CommandError(str(error)) from None
        for fmt in options["formats"] or ["docx", "pdf", "xlsx"]:
            path = out / render.filename(bulletin, fmt)
            path.write_bytes(render.stored_or_rendered(bulletin, fmt))
            self.stdout.write(str(path))
