"""`duban restore ARCHIVE [--force]` and `duban restore --check ARCHIVE`."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from duban.core.backups import VENDORS, BackupRefused, check_archive
from duban.core.restores import restore

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Restore a `duban backup` archive into the configured database and data directory. "
        "The archive is checked first (every file against the signed manifest); a target that "
        "holds data is refused unless --force, and what is replaced is kept aside. Stop the "
        "server and the worker first. --check only verifies the archive."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--check", action="store_true", help="verify the archive; restore nothing"
        )
        parser.add_argument(
            "--force", action="store_true", help="replace a database and files that hold data"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["archive"]
        try:
            if options["check"]:
                manifest = check_archive(archive)
            else:
                result = restore(archive, force=options["force"])
                manifest = result.manifest
        except BackupRefused as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            log.error("restore refused", extra={"archive": str(archive), "why": exc.message})
            raise CommandError(exc.message) from None
        facts = {
            "created": timezone.localtime(datetime.fromisoformat(manifest["created_at"])).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "vendor": VENDORS.get(manifest["database"]["vendor"], manifest["database"]["vendor"]),
            "files": len(manifest["files"]),
            "entries": manifest["audit"]["head"]["count"],
        }
        if options["check"]:
            self.stdout.write(
                _(
                    "The backup is intact: made %(created)s, %(vendor)s database, %(files)d files, %(entries)d audit entries."
                )
                % facts
            )
            return
        for path in result.kept_aside:
            self.stdout.write(_("Kept aside: %(path)s") % {"path": path})
        if result.migrated:
            self.stdout.write(_("The restored database was migrated to this version of Duban."))
        verification = result.verification
        if verification is not None and not verification.ok:
            for broken in verification.problems:
                self.stderr.write(str(broken))
            raise CommandError(_("Restored, but the audit trail does not verify: see above."))
        self.stdout.write(
            _(
                "Restored: made %(created)s, %(vendor)s database, %(files)d files, %(entries)d audit entries (%(seconds).1f s)."
            )
            % {**facts, "seconds": result.seconds}
        )
