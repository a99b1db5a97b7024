"""`duban scores SCHEME_CODE --period P --format table|csv|json [--lang zh|en]` from the database."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from duban.errors import DubanError
from duban.evaluation.engine import render
from duban.evaluation.models import Scheme
from duban.evaluation.scoring import score


class Command(BaseCommand):
    help = "Compute a scheme's scores for one period from approved figures and print them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("scheme", help="scheme code")
        parser.add_argument(
            "--period", default="", help="2017, 2017S1, 2017Q3, 201711 (default: the year)"
        )
        parser.add_argument("--format", default="table", choices=("table", "csv", "json"))
        parser.add_argument("--lang", default="zh", choices=("zh", "en"))
        parser.add_argument("--today", default="", help="measure expected progress at this day")

    def handle(self, *args: Any, **options: Any) -> None:
        scheme = Scheme.objects.filter(code=options["scheme"]).first()
        if scheme is None:
            raise CommandError(f"no scheme has the code {options['scheme']!r}")
        try:
            today = date.fromisoformat(options["today"]) if options["today"] else None
        except ValueError:
            raise CommandError(
                f"--today: {options['today']!r} is not a date (2017-11-30)"
            ) from None
        try:
            scored = score(scheme, options["period"] or None, today=today, with_previous=False)
        except DubanError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(render(scored.result, options["format"], options["lang"]), ending="")
