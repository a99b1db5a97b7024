"""``manage.py score SCHEME VALUES --period P``: score files without touching the database."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from duban.evaluation.engine.cli import FORMATS, score_files
from duban.evaluation.engine.explain import LANGS


class Command(BaseCommand):
    help = "Score a YAML evaluation scheme against a CSV values file and print the result."
    requires_system_checks: list[str] = []  # needs no database and no configured apps
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("scheme", help="YAML scheme file (docs/scheme-format.md)")
        parser.add_argument(
            "values", help="CSV values file: indicator,period,unit,value[,class][,reason]"
        )
        parser.add_argument("--period", required=True, help="period id, e.g. 2017, 2017Q3, 201711")
        parser.add_argument("--format", choices=FORMATS, default="table", dest="fmt")
        parser.add_argument("--lang", choices=LANGS, default="zh")
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="measure expected progress at this day (YYYY-MM-DD; default: the period's end)",
        )
        parser.add_argument(
            "--totals",
            action="store_true",
            help="add the issuer's and each group's totals, from the summed raw figures "
            "(table and json)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Refusals and warnings in the language asked for, as the output is.
        with translation.override("zh-hans" if options["lang"] == "zh" else options["lang"]):
            self._score(options)

    def _score(self, options: dict[str, Any]) -> None:
        try:
            output = score_files(
                options["scheme"],
                options["values"],
                options["period"],
                options["fmt"],
                options["lang"],
                today=options["today"],
                warn=lambda line: self.stderr.write(self.style.WARNING(line)),
                totals=options["totals"],
            )
        except ValueError as error:  # SchemeFileError and ValuesFileError are ValueErrors
            raise CommandError(str(error)) from error
        self.stdout.write(output, ending="")
