"""`duban tasks_daily [--today YYYY-MM-DD]`: the daily pass (idempotent).

Tasks linked to an indicator whose year-to-date figure has reached the target are declared
done (awaiting the issuing unit's check); then reminders and supervision orders go out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from duban.audit.context import acting_as
from duban.reporting.figures import year_to_date_figure
from duban.tasks.links import check_indicator_targets
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
            reached = check_indicator_targets(year_to_date_figure, today=today)
            result = daily_pass(today)
        self.stdout.write(
            f"{today}: {result.count('reminder')} reminders, {result.count('supervision')} supervision orders "
            f"issued; {result.emailed} e-mails sent, {result.email_failed} failed; "
            f"{len(reached)} tasks reached their indicator target (awaiting the issuing unit's check)."
        )
