"""`duban tree import FILE` / `duban tree export`: the organisation tree from the shell.

Run on the server by the installer, so it acts as the system (no user scope):
this is how the first tree of an installation is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from duban.audit.context import acting_as
from duban.errors import DubanError
from duban.orgs import treefile
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM


class Command(BaseCommand):
    help = "Import or export the organisation tree (CSV or YAML)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="create or update units from a file; all or nothing")
        imp.add_argument("file", type=Path)
        imp.add_argument("--format", choices=["csv", "yaml"], help="default: from the file name")
        exp = sub.add_parser("export", help="write the tree (or one subtree) to standard output")
        exp.add_argument("--format", choices=["csv", "yaml"], default="csv")
        exp.add_argument("--under", help="code of the unit whose subtree to export")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            units = OrgUnit.objects.all()
            if options["under"]:
                root = OrgUnit.objects.filter(code=options["under"]).first()
                if root is None:
                    raise CommandError(f"no unit has the code {options['under']!r}")
                units = units.subtree_of(root)
            writer = treefile.to_csv if options["format"] == "csv" else treefile.to_yaml
            self.stdout.write(writer(units), ending="")
            return
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        fmt = options["format"] or ("yaml" if path.suffix in (".yaml", ".yml") else "csv")
        try:
            with acting_as(source="duban tree import", reason=f"tree import from {path.name}"):
                summary = treefile.import_tree(path.read_bytes(), fmt, user=SYSTEM)
        except DubanError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{path}: {len(exc.problems)} problem(s); nothing was imported"
            ) from None
        self.stdout.write(
            f"{summary.created} created, {summary.updated} updated, "
            f"{summary.moved} moved, {summary.unchanged} unchanged"
        )
