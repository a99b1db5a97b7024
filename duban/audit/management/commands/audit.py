"""`duban audit verify`: walk the hash chain and report every break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from duban.audit.models import AuditEntry
from duban.audit.services import verify_chain


class Command(BaseCommand):
    help = "Work with the audit trail: 'verify' checks the hash chain end to end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        problems = verify_chain()
        total = AuditEntry.objects.count()
        if problems:
            for p in problems:
                where = f"entry #{p.entry_id}" if p.entry_id is not None else "chain"
                self.stderr.write(f"{where}: {p.message}")
            raise CommandError(f"audit trail BROKEN: {len(problems)} problem(s) in {total} entries")
        self.stdout.write(f"audit trail intact: {total} entries, chain verified")
