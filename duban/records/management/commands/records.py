"""`duban records recompute …`: the records app's command (recompute_command holds the work)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from duban.records import recompute_command


class Command(BaseCommand):
    help = "Business records: 'recompute' the proposed figures of record indicators."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recompute_command.add_arguments(
            sub.add_parser("recompute", help="recompute the proposed figures from the records")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "recompute":
            self.stdout.write(recompute_command.run(options))
