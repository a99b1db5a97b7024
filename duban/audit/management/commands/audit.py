"""`duban audit verify [--data]` and `duban audit anchor`: check the trail, sign its head."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from duban.audit.anchor import anchor_path
from duban.audit.verify import AnchorError, Verification, anchor_chain, replayers, verify_chain
from duban.logs import timed

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Work with the audit trail. 'verify' checks every entry's position, link and MAC, the "
        "head and the anchor file; with --data it also replays the trail's record of figures "
        "and forms against the tables. 'anchor' verifies the chain and appends its signed head "
        "to the anchor file (DUBAN_AUDIT_ANCHOR), printing the line on standard output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "anchor"])
        parser.add_argument(
            "--data",
            action="store_true",
            help="verify: also compare every figure and form with the trail's last record of it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "anchor":
            self._anchor()
            return
        with timed(log, "audit verify", data=bool(options["data"])) as out:
            result = verify_chain(replay=replayers() if options["data"] else ())
            out.update(
                entries=result.entries,
                problems=len(result.problems),
                data_problems=len(result.data),
            )
        self._report(result)
        if not result.ok:
            log.error("audit trail broken", extra={"problems": len(result.problems)})
            raise CommandError(
                f"audit trail BROKEN: {len(result.problems)} chain problem(s), "
                f"{len(result.data)} data problem(s) in {result.rows} entries"
            )
        anchored = f"; {result.anchors} anchor line(s) agree" if result.anchors else ""
        data = "; figures and forms match the trail" if options["data"] else ""
        self.stdout.write(
            f"audit trail intact: {result.entries} entries, chain verified{anchored}{data}"
        )

    def _report(self, result: Verification) -> None:
        for problem in result.problems:
            self.stderr.write(str(problem))
        for data in result.data:
            self.stderr.write(f"data: {data}")
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")

    def _anchor(self) -> None:
        try:
            result, line = anchor_chain()
        except AnchorError as exc:
            raise CommandError(str(exc)) from None
        if line is None:
            self._report(result)
            raise CommandError(
                f"audit trail BROKEN: {len(result.problems)} problem(s); no anchor written to "
                f"{anchor_path()}"
            )
        self.stdout.write(line)
