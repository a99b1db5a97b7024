"""A meeting's pack shows each reader what the policy lets him read (issue 10, item 5).

Figures: only units he may VIEW_DATA; of a unit where he holds no role himself, only
approved or locked figures; every aggregate computed from those alone. Tasks and
everything built from them: only tasks he may see (duban.tasks.access).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from duban.accounts.models import User
from duban.demo.loader import DEMO_PASSWORD, load_demo
from duban.meetings import services
from duban.meetings.agenda import AgendaPack
from duban.meetings.demo import load_meetings_demo
from duban.meetings.models import Meeting
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.reporting.demo import load_reporting_demo
from duban.reporting.models import DataValue, State
from duban.reporting.tests.conftest import make_form, put_figure
from duban.tasks import access as task_access
from duban.tasks.tests.factories import make_task
from duban.testing import PASSWORD, make_unit, make_user

pytestmark = pytest.mark.django_db
AFTER_THE_DEMO = "2018-01-02 10:00 +0800"


def _client(username: str, password: str = PASSWORD) -> Client:
    client = Client()
    assert client.login(username=username, password=password)
    return client


def _task_ids(pack: AgendaPack) -> set[int]:
    """Every task the pack names, in whichever of its lists."""
    ids = {r.task.pk for r in [*pack.red, *pack.yellow, *pack.to_verify]}
    ids |= {s.milestone.task_id for s in pack.shortfalls}
    ids |= {r.task_id for r in pack.open_orders}
    ids |= {m.task_id for m, _ in pack.open_matters if m.task_id}
    return ids


@pytest.mark.once
@time_machine.travel(AFTER_THE_DEMO, tick=False)
def test_a_county_reporter_invited_to_the_city_meeting_reads_only_his_own_unit() -> None:
    """The reproduction: lst_reporter opens the demo's December dispatch meeting of Yongzhou."""
    load_demo(activity=False)
    load_reporting_demo()
    load_meetings_demo(date(2018, 1, 2))
    meeting = Meeting.objects.get(unit__code="YZ", held_on=date(2017, 12, 8))
    assert meeting.participants.filter(unit__code="YZ-LST").exists()
    # What he must not read exists: Lingling's November form is submitted, not approved,
    # the traffic division reported, and the city's office sees sibling units' red tasks.
    assert DataValue.objects.filter(
        unit__code="YZ-LL", period="201711", state=State.SUBMITTED
    ).exists()
    assert DataValue.objects.filter(unit__code="YZ-JJZD", period="201711").exists()
    reporter = User.objects.get(username="lst_reporter")
    seen = set(task_access.visible_tasks(reporter).values_list("pk", flat=True))
    client = _client("lst_reporter", DEMO_PASSWORD)

    body = client.get(f"/api/meetings/meetings/{meeting.pk}/agenda").json()
    assert [row["unit"] for row in body["figures"]] == ["YZ-LST"]  # no city total, no sibling
    own = {
        v.indicator.code: v.value
        for v in DataValue.objects.filter(unit__code="YZ-LST", period="201711").select_related(
            "indicator"
        )
    }
    for code, value in body["figures"][0].items():
        if code in own:
            assert Decimal(str(value)) == own[code], code
    listed = {t["task"] for key in ("red", "yellow", "to_verify") for t in body[key]}
    listed |= {s["task"] for s in body["shortfalls"]}
    assert listed <= seen
    assert {s["unit"] for s in body["units_behind"]} <= {"YZ-LST", "YZ-LST-MW", "YZ-LST-FH"}

    page = client.get(f"/meetings/{meeting.pk}/")
    assert page.status_code == 200
    pack = page.context["pack"]
    assert pack.figures is not None
    assert [row.unit.code for row in pack.figures.rows] == ["YZ-LST"]
    assert _task_ids(pack) <= seen
    assert all(s.unit.is_within(OrgUnit.objects.get(code="YZ-LST")) for s in pack.units_behind)
    html = page.content.decode()  # unit names are bold in the figures and units-behind lists
    assert "<strong>冷水滩区公安分局</strong>" in html
    for name in ("永州市公安局", "零陵区公安分局", "交警支队"):
        assert f"<strong>{name}</strong>" not in html, name


@pytest.fixture
def city_pack(tree) -> dict[str, Any]:
    """November figures of three counties in three states, a city meeting, and two tasks."""
    county_c = make_unit("COUNTY-C", tree.city, name_zh="丙县局", name_en="County C")
    form = make_form(tree)
    figures = [
        # unit, cases filed, cases solved, state
        (tree.county_a, 40, 30, State.APPROVED),
        (tree.county_b, 20, 5, State.LOCKED),
        (county_c, 99, 9, State.DRAFT),  # not even submitted
        (tree.station_a1, 7, 7, State.SUBMITTED),
    ]
    for unit, filed, solved, state in figures:
        for ind, value in ((form.filed, filed), (form.solved, solved)):
            put_figure(unit, ind, "201711", value, state)
    meeting = services.create_meeting(
        tree.city,
        user=SYSTEM,
        kind="dispatch",
        title="全市调度会",
        held_on=date(2017, 12, 8),
        participants=[tree.county_a, tree.county_b, county_c],
    )
    own = make_task(tree.city, county_c, title="丙县局任务", due_date=date(2017, 11, 30))
    sibling = make_task(tree.city, tree.county_b, title="乙县局任务", due_date=date(2017, 11, 30))
    return {"meeting": meeting, "county_c": county_c, "own": own, "sibling": sibling}


def _figures(client: Client, meeting: Meeting) -> dict[str, dict[str, object]]:
    body = client.get(f"/api/meetings/meetings/{meeting.pk}/agenda").json()
    return {row.pop("unit"): row for row in body["figures"]}


@time_machine.travel("2017-12-08 10:00 +0800", tick=False)
def test_the_city_office_reads_approved_figures_of_every_county_and_their_total(
    tree, city_pack
) -> None:
    make_user("city_office", tree.city, "office")
    client = _client("city_office")
    rows = _figures(client, city_pack["meeting"])
    assert list(rows) == ["CITY", "COUNTY-A", "COUNTY-B", "COUNTY-C", "DIV"]
    assert rows["COUNTY-A"]["case.filed"] == "40.000000"
    assert rows["COUNTY-B"]["case.filed"] == "20.000000"
    assert rows["COUNTY-C"]["case.filed"] is None  # a draft of another unit
    # City total of the approved and locked figures only: 40 + 20 filed, 30 + 5 solved,
    # clearance 35 / 60 = 58.33 %, not (35 + 9) / (60 + 99).
    assert rows["CITY"]["case.filed"] == "60.000000"
    assert round(Decimal(str(rows["CITY"]["case.clearance"])), 2) == Decimal("58.33")
    page = client.get(f"/meetings/{city_pack['meeting'].pk}/")
    assert [r.unit.code for r in page.context["pack"].figures.rows] == list(rows)
    titles = {r.task.title for r in page.context["pack"].red}
    assert titles == {"丙县局任务", "乙县局任务"}


@time_machine.travel("2017-12-08 10:00 +0800", tick=False)
def test_a_units_own_reporter_reads_its_figures_in_every_state_and_nothing_beside(
    tree, city_pack
) -> None:
    make_user("c_reporter", city_pack["county_c"], "reporter")
    make_user("a_leader", tree.county_a, "leader")
    meeting = city_pack["meeting"]

    rows = _figures(_client("c_reporter"), meeting)
    assert list(rows) == ["COUNTY-C"]
    assert (rows["COUNTY-C"]["case.filed"], rows["COUNTY-C"]["case.solved"]) == (
        "99.000000",
        "9.000000",
    )
    page = _client("c_reporter").get(f"/meetings/{meeting.pk}/")
    assert {r.task.title for r in page.context["pack"].red} == {"丙县局任务"}
    assert [s.unit.code for s in page.context["pack"].units_behind] == ["COUNTY-C"]

    # County A's leader is inside County A (his own figures, approved here anyway) and
    # outside Station A1, whose submitted figures he does not read in the pack.
    rows = _figures(_client("a_leader"), meeting)
    assert list(rows) == ["COUNTY-A"]
    assert rows["COUNTY-A"]["case.filed"] == "40.000000"
    assert {r.task.title for r in _pack_of("a_leader", meeting).red} == set()


def _pack_of(username: str, meeting: Meeting) -> AgendaPack:
    pack: AgendaPack = _client(username).get(f"/meetings/{meeting.pk}/").context["pack"]
    return pack
