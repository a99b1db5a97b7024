"""`duban backup [DEST]`: one archive of the database, the uploaded files and the audit anchor."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from duban.core.backup_db import DatabaseToolError
from duban.core.backups import BackupRefused, make_backup

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Write a backup archive (a .tar.gz, or a .tar when DEST ends in .tar): the database "
        "(SQLite's online backup, or pg_dump), the uploaded files, the audit anchor and a signed "
        "manifest. DEST is the archive's name or a folder (default: backups/ in the data "
        "directory). Safe while the server runs. Secrets and the environment are not included."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", nargs="?", type=Path, help="archive file or folder")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            made = make_backup(options["dest"])
        except (BackupRefused, DatabaseToolError, OSError) as exc:
            raise CommandError(str(exc)) from None
        head = made.manifest["audit"]["head"]
        log.info(
            "backup written",
            extra={
                "archive": str(made.path),
                "bytes": made.size,
                "seconds": round(made.seconds, 3),
            },
        )
        self.stdout.write(
            _(
                "Backup written: %(path)s (%(size)s bytes, %(files)d files, %(entries)d audit entries, %(seconds).1f s)"
            )
            % {
                "path": made.path,
                "size": made.size,
                "files": len(made.manifest["files"]),
                "entries": head["count"],
                "seconds": made.seconds,
            }
        )
