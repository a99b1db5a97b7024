"""The pack's figures are frozen at the meeting: kept on the first reading on or after the
meeting's day, so a figure corrected afterwards does not change the pack, which says so
(数据截至 …); the live pages show the corrected figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from duban.meetings import services
from duban.meetings.agenda import unit_figures_since
from duban.meetings.models import MeetingKind, PackFigures
from duban.reporting.models import State
from duban.reporting.tests.conftest import make_form, put_figure
from duban.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db
HELD = date(2017, 12, 8)


def filed_cell(html: str, unit: str) -> str:
    """The first figure of the unit's row in the pack's table (立案数 is its first column)."""
    row = html.split(f"<strong>{unit}</strong></td>", 1)[1].split("</tr>", 1)[0]
    return row.split(">", 2)[1].split("<", 1)[0]


@pytest.fixture
def held(tree: Any) -> tuple[Any, Any, Client]:
    form = make_form(tree)
    put_figure(tree.county_a, form.filed, "201711", 40, State.APPROVED)
    put_figure(tree.county_b, form.filed, "201711", 20, State.APPROVED)
    office = make_user("city_office", tree.city, "office")
    meeting = services.create_meeting(
        tree.city, user=office, kind=MeetingKind.DISPATCH, title="全市调度会", held_on=HELD,
        participants=[tree.county_a, tree.county_b],
    )  # fmt: skip
    client = Client()
    assert client.login(username="city_office", password=PASSWORD)
    return form, meeting, client


def test_a_figure_corrected_after_the_meeting_leaves_the_pack_as_it_was(tree, held) -> None:
    form, meeting, client = held
    with time_machine.travel("2017-12-07 10:00 +0800", tick=False):  # the day before: live
        client.get(f"/meetings/{meeting.pk}/")
        assert not PackFigures.objects.filter(meeting=meeting).exists()
    with time_machine.travel("2017-12-08 09:30 +0800", tick=False):  # the meeting's day
        html = client.get(f"/meetings/{meeting.pk}/").content.decode()
        assert filed_cell(html, "甲县局") == "40" and filed_cell(html, "市局") == "60"
    with time_machine.travel("2017-12-11 10:00 +0800", tick=False):
        put_figure(tree.county_a, form.filed, "201711", 55, State.APPROVED)  # corrected
        html = client.get(f"/meetings/{meeting.pk}/").content.decode()
        assert filed_cell(html, "甲县局") == "40" and filed_cell(html, "市局") == "60"
        assert "数据截至 2017-12-08 09:30" in html
        agenda = client.get(f"/api/meetings/meetings/{meeting.pk}/agenda").json()
        by_unit = {row["unit"]: row for row in agenda["figures"]}
        assert Decimal(by_unit["COUNTY-A"]["case.filed"]) == 40
        assert agenda["figures_as_of"].startswith("2017-12-08T01:30")
        # The live figures have the correction: the same table read now, and the form.
        office = meeting.created_by
        live = unit_figures_since(tree.city, date(2017, 11, 8), HELD, viewer=office)
        assert live is not None
        cells = {row.unit.code: dict((i.code, v) for i, v in row.cells) for row in live.rows}
        assert cells["COUNTY-A"]["case.filed"] == 55 and cells["CITY"]["case.filed"] == 75
        page = client.get(f"/reporting/overview/{form.data_set.code}/CITY/201711/")
        assert page.status_code == 200 and ">55<" in page.content.decode()


def test_each_reader_still_reads_only_his_part_of_the_kept_figures(tree, held) -> None:
    """The kept rows are every figure of the subtree; a county's reporter reads his own."""
    _form, meeting, client = held
    make_user("a_rep", tree.county_a, "reporter")
    with time_machine.travel("2017-12-08 09:30 +0800", tick=False):
        client.get(f"/meetings/{meeting.pk}/")  # kept by the office's reading
        reader = Client()
        assert reader.login(username="a_rep", password=PASSWORD)
        html = reader.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "<strong>甲县局</strong>" in html and "<strong>乙县局</strong>" not in html
    assert PackFigures.objects.get(meeting=meeting).rows  # kept once, for every reader
