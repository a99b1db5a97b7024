"""`duban tasks_daily [--today YYYY-MM-DD]`: the daily pass (idempotent).

Tasks linked to an indicator whose approved figures over the scheme's statistical year have
reached the target are declared done (awaiting the issuing unit's check); then reminders and
supervision orders go out; last, the audit chain is verified and its head anchored outside
the database (`duban audit anchor`).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from duban.audit.anchor import anchor_path
from duban.audit.context import acting_as
from duban.audit.verify import AnchorError, anchor_chain
from duban.logs import timed
from duban.tasks.links import check_indicator_targets
from duban.tasks.reminders import daily_pass
from duban.tasks.services import today_local

log = logging.getLogger(__name__)


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
        with acting_as(source="duban tasks_daily"), timed(log, "daily pass", day=today) as out:
            reached = check_indicator_targets(today=today)
            result = daily_pass(today)
            out.update(
                reminders=result.count("reminder"),
                supervision_orders=result.count("supervision"),
                emailed=result.emailed,
                email_failed=result.email_failed,
                targets_reached=len(reached),
            )
        self.stdout.write(
            f"{today}: {result.count('reminder')} reminders, {result.count('supervision')} supervision orders "
            f"issued; {result.emailed} e-mails sent, {result.email_failed} failed; "
            f"{len(reached)} tasks reached their indicator target (awaiting the issuing unit's check)."
        )
        self._anchor()

    def _anchor(self) -> None:
        """Anchor the audit chain once a day, after the pass has committed its own entries.

        Called inside a transaction (the test suite does), it anchors nothing: a rollback would
        leave the anchor claiming entries that never were.
        """
        if connection.in_atomic_block:
            self.stdout.write("audit chain not anchored: the pass ran inside a transaction.")
            return
        try:
            result, line = anchor_chain()
        except AnchorError as exc:
            raise CommandError(f"audit chain not anchored: {exc}") from None
        if line is None:
            log.error("audit chain broken, not anchored", extra={"problems": len(result.problems)})
            for problem in result.problems[:20]:
                self.stderr.write(str(problem))
            raise CommandError(
                f"audit trail BROKEN: {len(result.problems)} problem(s), no anchor written; "
                "run `duban audit verify`"
            )
        log.info("audit chain anchored", extra={"entries": result.entries, "last": result.last_id})
        self.stdout.write(
            f"audit chain anchored: {result.entries} entries ending at #{result.last_id}, "
            f"in {anchor_path()}."
        )
