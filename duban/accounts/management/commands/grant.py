"""`duban grant USERNAME UNIT ROLE`: give a role from the shell (the installation's first admins)."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from duban.accounts import services
from duban.accounts.models import User
from duban.audit.context import acting_as
from duban.errors import DubanError
from duban.orgs.models import OrgUnit, Role
from duban.orgs.policy import SYSTEM
from duban.orgs.services import grant_role


class Command(BaseCommand):
    help = (
        "Give USERNAME the ROLE at UNIT; with --create, make the account first "
        "(password from DUBAN_PASSWORD or a prompt)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("unit", help="unit code")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--create", action="store_true", help="create the account")
        parser.add_argument("--full-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = OrgUnit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"no unit has the code {options['unit']!r}")
        role = Role(options["role"])
        try:
            with acting_as(source="duban grant"):
                if options["create"]:
                    password = os.environ.get("DUBAN_PASSWORD") or getpass.getpass("Password: ")
                    services.create_account(
                        user=SYSTEM, unit=unit, username=options["username"],
                        full_name=options["full_name"], password=password, role=role,
                    )  # fmt: skip
                else:
                    member = User.objects.filter(username=options["username"]).first()
                    if member is None:
                        raise CommandError(f"no account {options['username']!r}; use --create")
                    grant_role(member, unit, role, user=SYSTEM)
        except DubanError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{options['username']} is now {role.label} at {unit.code}")
