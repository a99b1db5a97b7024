"""Compile every .po catalogue of the project to .mo, without GNU gettext on the machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def catalogues() -> list[Path]:
    roots = [Path(p) for p in settings.LOCALE_PATHS] + [Path(settings.BASE_DIR)]
    found = {po.resolve() for root in roots for po in root.rglob("LC_MESSAGES/*.po")}
    return sorted(found)


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = "Compile the project's .po files to .mo (pure Python; gettext's msgfmt not needed)."

    def handle(self, *args: Any, **options: Any) -> None:
        pos = catalogues()
        if not pos:
            raise CommandError("no .po catalogues found")
        for po_path in pos:
            catalogue = polib.pofile(str(po_path))
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
            self.stdout.write(
                f"{po_path.relative_to(settings.BASE_DIR.parent)}: {catalogue.percent_translated()}% translated"
            )
