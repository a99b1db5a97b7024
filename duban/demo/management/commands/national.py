"""`duban national`: load the synthetic national organisation (invented figures) on a fresh database."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from duban.demo import national


class Command(BaseCommand):
    help = (
        "Load a seeded synthetic national organisation (34 provinces … 40,000 police stations at "
        "--scale 1) with monthly figures, into a database without one. All figures are invented."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="1: about 44,000 units")
        parser.add_argument("--years", type=int, default=2, help="years of monthly figures")
        parser.add_argument("--indicators", type=int, default=len(national.INDICATORS),
                            choices=range(1, len(national.INDICATORS) + 1))  # fmt: skip
        parser.add_argument("--end", default="", help="the last month (YYYYMM); default last month")
        parser.add_argument("--seed", type=int, default=national.SEED)
        parser.add_argument("--no-records", action="store_true",
                            help="leave out the stations' business records (about 9 a station and month)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        shape = national.shape_for(options["scale"], years=options["years"],
                                   indicators=options["indicators"])  # fmt: skip
        start = time.perf_counter()
        loaded = national.build_national(shape, end=options["end"] or national.now_end(),
                                         seed=options["seed"], records=not options["no_records"])  # fmt: skip
        self.stdout.write(
            f"{loaded.units:,} units, {loaded.forms:,} forms, {loaded.figures:,} figures "
            f"({loaded.periods[0]}–{loaded.periods[-1]}), {loaded.year_to_date_rows:,} year-to-date "
            f"rows, {loaded.records:,} records, {loaded.tasks:,} tasks in {time.perf_counter() - start:.1f} s; accounts {national.OFFICE_USER}, "
            f"{national.LEADER_USER}, cn_office (password {national.PASSWORD}). All figures are invented."
        )
