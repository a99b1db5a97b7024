"""`duban records recompute [--indicator CODE …] [--from DATE] [--to DATE]`: the proposed
figures of record indicators, recomputed from the business records as the system.

The `records` command's subcommand; its arguments and work live here so that the command
module (which also imports records) only adds this parser and calls `run`.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from duban.errors import DubanError
from duban.orgs.policy import SYSTEM
from duban.records import proposals
from duban.records.jobs import summary


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(text)s is not a date (year-month-day)") % {"text": text[:20]}
        ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--indicator",
        action="append",
        dest="indicators",
        metavar="CODE",
        help="a record indicator's code (repeat; default: every active record indicator)",
    )
    parser.add_argument("--from", dest="start", type=_day, help="first day of the window")
    parser.add_argument("--to", dest="end", type=_day, help="last day of the window")


def run(options: dict[str, Any]) -> str:
    """Recompute; the summary line, or a CommandError naming each problem."""
    try:
        inds = proposals.record_indicators(options.get("indicators") or None)
        result = proposals.recompute_record_indicators(
            user=SYSTEM, indicators=inds, start=options.get("start"), end=options.get("end")
        )
    except DubanError as exc:
        raise CommandError("; ".join(f"{p.where}: {p.message}" for p in exc.shown())) from exc
    return summary(result)
