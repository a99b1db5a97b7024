"""Loads the demo organisations and accounts. Everything it creates is marked as demo."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction

from duban.accounts.models import User
from duban.audit.context import acting_as
from duban.audit.services import audited_update
from duban.bulletins.demo import load_bulletins_demo
from duban.cockpit.demo import load_screen_demo
from duban.evaluation.demo import load_evaluation_demo
from duban.meetings.demo import load_meetings_demo
from duban.orgs import services as org_services
from duban.orgs import treefile
from duban.orgs.models import Membership, OrgUnit, Role
from duban.orgs.policy import SYSTEM
from duban.records.demo import load_record_types
from duban.reporting.demo import load_reporting_demo, load_reporting_today
from duban.tasks.demo import load_tasks_demo
from duban.tasks.services import today_local

DATA = Path(__file__).resolve().parent / "data"
DEMO_PASSWORD = "Duban-demo-2017"
INVENTED = "演示数据均为虚构 / All demo figures are invented."  # the command's output


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    unit: str
    role: str


def demo_accounts() -> list[DemoAccount]:
    with (DATA / "accounts.csv").open(encoding="utf-8") as fh:
        return [DemoAccount(**row) for row in csv.DictReader(fh)]


@transaction.atomic
def load_demo(*, activity: bool = True, today: date | None = None) -> list[DemoAccount]:
    """Create or refresh the demo; running it twice changes nothing the second time.

    `activity=False` loads only the organisations and accounts (tests build on that).
    """
    with acting_as(source="duban demo", reason="演示数据（虚构）"):
        treefile.import_tree((DATA / "orgs.csv").read_bytes(), "csv", user=SYSTEM)
        codes = [row.code for row in treefile.parse((DATA / "orgs.csv").read_bytes(), "csv")]
        audited_update(OrgUnit.objects.filter(code__in=codes, is_demo=False), is_demo=True)
        accounts = demo_accounts()
        # One published password for every demo account: hashed once (PBKDF2's deliberate
        # cost, 0.3 s a time, was a fifth of the demo's load), the same hash on each.
        hashed = make_password(DEMO_PASSWORD)
        for acc in accounts:
            user = User.objects.filter(username=acc.username).first()
            if user is None:
                user = User(username=acc.username, full_name=acc.full_name)
                user.password = hashed
                user.save()
            unit = OrgUnit.objects.get(code=acc.unit)
            if not Membership.objects.filter(user=user, unit=unit, role=acc.role).exists():
                org_services.grant_role(user, unit, Role(acc.role), user=SYSTEM)
        load_record_types()
        if activity:
            load_reporting_demo()
            load_reporting_today(today or today_local())
            load_evaluation_demo()
            load_tasks_demo(today)
            load_meetings_demo(today)
            load_screen_demo(today or today_local())
            load_bulletins_demo(today or today_local())
    return accounts
