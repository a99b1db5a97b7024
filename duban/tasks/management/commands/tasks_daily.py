"""`duban tasks_daily [--today YYYY-MM-DD]`: the daily reminder and supervision pass (idempotent)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from duban.audit.context import acting_as
from duban.tasks.reminders import daily_pass
from duban.tasks.services import today_local


class Command(BaseCommand):
    help = (
        "Issue today's reminders (催办) and supervision orders (督办) for open tasks and send the "
        "e-mails still owed. Safe to run twice: nothing is issued or sent twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="run as if today were this date (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        today = today_local()
        if options.get("today"):
            try:
                today = date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(
                    f"--today {options['today']!r} is not a date (YYYY-MM-DD)"
                ) from None
        with acting_as(source="duban tasks_daily"):
            result = daily_pass(today)
        self.stdout.write(
            f"{today}: {result.count('reminder')} reminders, {result.count('supervision')} supervision orders "
            f"issued; {result.emailed} e-mails sent, {result.email_failed} failed."
        )
