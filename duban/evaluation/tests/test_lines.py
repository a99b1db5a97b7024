"""Scores along a line (条线, issue 11 item 2): a division head reads his line's items of a
published scheme in the territorial units under the division's parent — figure, points and
place, weakest first — and nothing else of the scheme: no totals, no other item."""

from __future__ import annotations

import pytest
import time_machine

from duban.evaluation import services
from duban.indicators.models import Indicator
from duban.orgs.models import Line, OrgUnit
from duban.orgs.policy import SYSTEM
from duban.testing import (
    MATRIX_ROLES,
    Expected,
    log_in_actor,
    logged_in,
    make_user,
    only,
    role_faults,
)

PAGE = "/evaluation/schemes/t-2017/lines/{line}/?period=2017Q1"


@pytest.fixture
def criminal(tree, scheme):
    """DIV (刑侦支队) heads the criminal line, which owns the scheme's 破案数 (t.solved)."""
    OrgUnit.objects.filter(pk=tree.division.pk).update(line=Line.CRIMINAL)
    Indicator.objects.filter(code="t.solved").update(line=Line.CRIMINAL)
    make_user("crime_head", tree.division, "leader")
    return scheme


def rows(html: str) -> list[list[str]]:
    import re

    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@time_machine.travel("2017-04-10 10:00 +0800", tick=False)
def test_the_division_head_reads_his_lines_item_weakest_first(criminal) -> None:
    page = logged_in("crime_head").get(PAGE.format(line="criminal"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "破案数" in html and "民调" not in html  # the poll is of no line: not his
    assert "<th>总分</th>" not in html  # a total mixes every line
    # 破案数, 20 points by completion rate, year to date: A 60/100 → 12, B 40/100 → 8; the
    # station's own target is 50 and it has no figure, nor has the city: 0 each, sharing 3rd.
    table = rows(html)
    assert [r[1] for r in table[-2:]] == ["乙县局", "甲县局"]  # weakest first: A is best
    assert table[-1] == ["1", "甲县局", "60", "12.00 / 20.00"]
    assert table[-2] == ["2", "乙县局", "40", "8.00 / 20.00"]
    assert sorted(r[0] for r in table[:-2]) == ["3", "3"]
    assert {r[1] for r in table[:-2]} == {"市局", "甲一派出所"}


@time_machine.travel("2017-04-10 10:00 +0800", tick=False)
def test_no_other_line_and_no_scheme_wide_page(criminal) -> None:
    client = logged_in("crime_head")
    assert client.get(PAGE.format(line="traffic")).status_code == 403  # no item of it
    assert client.get(PAGE.format(line="nope")).status_code == 403
    assert client.get("/evaluation/schemes/t-2017/scores/?period=2017Q1").status_code == 403
    assert client.get("/evaluation/schemes/t-2017/units/COUNTY-A/").status_code == 403


@time_machine.travel("2017-04-10 10:00 +0800", tick=False)
def test_the_scheme_list_leads_him_to_his_line(criminal) -> None:
    html = logged_in("crime_head").get("/evaluation/").content.decode()
    assert "本条线考评得分" in html
    assert "/evaluation/schemes/t-2017/lines/criminal/" in html


@time_machine.travel("2017-04-10 10:00 +0800", tick=False)
def test_a_county_reads_its_own_subtree_only_along_the_line(criminal, tree) -> None:
    make_user("a_leader", tree.county_a, "leader")
    table = rows(logged_in("a_leader").get(PAGE.format(line="criminal")).content.decode())
    assert table == [
        ["2", "甲一派出所", "—", "0.00 / 20.00"],
        ["1", "甲县局", "60", "12.00 / 20.00"],
    ]


def test_a_draft_is_read_along_no_line(criminal) -> None:
    draft = services.copy_scheme_as_draft(criminal, user=SYSTEM, code="w-2017")
    client = logged_in("crime_head")
    assert client.get(f"/evaluation/schemes/{draft.code}/lines/criminal/").status_code == 403


# The division-line cells of the evaluation matrix: a role at DIV × the scheme's pages.
ALONG = {"line"}
EXPECTED: Expected = {
    "line_page": only({r: ALONG for r in ("office", "reporter", "approver", "leader")}),
    "scores_page": only({}),
    "unit_page": only({}),
    "unit_api": only({}),
    "yaml": only({}),
}


@pytest.mark.parametrize("role", MATRIX_ROLES)
@time_machine.travel("2017-04-10 10:00 +0800", tick=False)
def test_line_cells(tree, criminal, role: str) -> None:
    client = log_in_actor(tree.division, role)
    url = {
        "line_page": PAGE.format(line="criminal"),
        "scores_page": "/evaluation/schemes/t-2017/scores/?period=2017Q1",
        "unit_page": "/evaluation/schemes/t-2017/units/COUNTY-A/?period=2017Q1",
        "unit_api": "/api/evaluation/schemes/t-2017/units/COUNTY-A?period=2017Q1",
        "yaml": "/evaluation/schemes/t-2017/scheme.yaml",
    }

    def act(op: str, relation: str) -> int:
        return client.get(url[op]).status_code

    assert role_faults(EXPECTED, role, ["line"], act) == []
