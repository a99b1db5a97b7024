"""`duban demo`: load the Yongzhou and Shaanxi demo organisations and one account per role."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from duban.demo.loader import DEMO_PASSWORD, INVENTED, load_demo
from duban.orgs.models import Role


class Command(BaseCommand):
    help = "Load the demo organisations and accounts (figures are invented). Safe to run twice."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = load_demo()
        self.stdout.write(INVENTED)
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        width = max(len(a.username) for a in accounts)
        for a in accounts:
            self.stdout.write(
                f"  {a.username:<{width}}  {a.unit:<10} {Role(a.role).label}  {a.full_name}"
            )
