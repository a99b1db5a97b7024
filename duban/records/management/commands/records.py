"""`duban records import FILE [--unit CODE] [--apply]`, `duban records apply|refuse ID`,
`duban records types`, `duban records recompute [--indicator CODE …] [--from DATE] [--to DATE]`:
the record import and the record indicators' proposed figures from the shell, through the same services as the
page, acting as the system (the audit trail names the command)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from duban.audit.context import acting_as
from duban.errors import DubanError
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.records import recompute_command, services
from duban.records.demo import load_record_types
from duban.records.importing import describe
from duban.records.models import RecordImport

SHOWN = 50  # bad rows printed; the import's page lists them all


class Command(BaseCommand):
    help = (
        "Import business records from a CSV (UTF-8 or GB18030) or Parquet file: 'import' checks "
        "the file and applies it if no row is bad (with --apply: its good rows at once, the bad "
        "ones listed and left out); 'apply' and 'refuse' decide on a waiting import; 'types' "
        "creates the standard record types that are missing; 'recompute' the proposed figures "
        "of record indicators from the records."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["import", "apply", "refuse", "types", "recompute"])
        parser.add_argument("target", nargs="?", help="the file to import, or the import's number")
        parser.add_argument(
            "--unit", help="the unit whose subtree the file holds (default: the tree's one root)"
        )
        parser.add_argument(
            "--apply",
            action="store_true",
            help="write the good rows at once, leaving out the bad rows listed",
        )
        recompute_command.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "recompute":
            self.stdout.write(recompute_command.run(options))
            return
        with acting_as(source=f"duban records {action}"):
            try:
                if action == "types":
                    created = load_record_types()
                    self.stdout.write(_("record types created: %(n)d") % {"n": created})
                    return
                target = options["target"]
                if not target:
                    raise CommandError(_("name the file or the import"))
                if action == "import":
                    imp = self._import(Path(target), options["unit"], options["apply"])
                else:
                    imp = self._decide(action, target)
            except DubanError as exc:
                raise CommandError("; ".join(str(p) for p in exc.shown())) from exc
        self._report(imp)

    def _import(self, path: Path, code: str | None, apply_good: bool) -> RecordImport:
        if not path.is_file():
            raise CommandError(_("no file %(path)s") % {"path": path})
        if code:
            unit = OrgUnit.objects.filter(code=code).first()
            if unit is None:
                raise CommandError(_("no unit has the code %(value)s") % {"value": code})
        else:
            roots = list(OrgUnit.objects.filter(parent=None)[:2])
            if len(roots) != 1:
                raise CommandError(_("the tree has several roots: name the unit with --unit"))
            unit = roots[0]
        return services.import_file(
            path, name=path.name, user=SYSTEM, unit=unit, apply_good=apply_good
        )

    def _decide(self, action: str, target: str) -> RecordImport:
        imp = RecordImport.objects.filter(pk=int(target) if target.isdigit() else 0).first()
        if imp is None:
            raise CommandError(_("no import numbered %(n)s") % {"n": target})
        if action == "apply":
            return services.apply_import(imp, user=SYSTEM)
        return services.refuse_import(imp, user=SYSTEM)

    def _report(self, imp: RecordImport) -> None:
        problems = services.problems_of(imp)
        for p in problems[:SHOWN]:
            self.stderr.write(
                _("%(file)s line %(line)d: %(problem)s")
                % {"file": imp.file_name, "line": p.line, "problem": describe(p)}
            )
        if len(problems) > SHOWN:
            self.stderr.write(_("… and %(count)d more") % {"count": len(problems) - SHOWN})
        self.stdout.write(
            _(
                "import %(id)d (%(state)s): %(read)d rows read, %(new)d new, %(known)d already held, %(bad)d bad"
            )
            % {
                "id": imp.pk,
                "state": imp.get_state_display(),
                "read": imp.rows_read,
                "new": imp.rows_new,
                "known": imp.rows_known,
                "bad": imp.rows_bad,
            }
        )
