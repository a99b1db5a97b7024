"""The division-line cells of the task matrix: every role at a division heading a line (条线)
× where a task sits × every task route, through real HTTP.

The actor holds one role at 刑侦支队 (DIV, the criminal line, under CITY). The task is of the
criminal line and led by a county, a station, the sibling county or the city itself; or it is
a task of no line in a county (`unlined`), or of the criminal line in another city
(`other_city`). Cells are written by hand: the line's tasks under the division's parent are
followed (read) by every business role, and nothing is changed through a line.
"""

from __future__ import annotations

import pytest
import time_machine

from duban.orgs.models import Line, OrgUnit
from duban.tasks.models import Task
from duban.tasks.tests.factories import make_task
from duban.tasks.tests.test_permission_matrix import EXPECTED as UNIT_EXPECTED
from duban.tasks.tests.test_permission_matrix import cell_runner
from duban.testing import MATRIX_ROLES, Expected, log_in_actor, only, role_faults

LINE_RELATIONS = ["county", "station", "sibling", "parent", "unlined", "other_city"]
# relation -> (issuing unit, lead unit, line)
PLACES = {
    "county": ("city", "county_a", Line.CRIMINAL),
    "station": ("county_a", "station_a1", Line.CRIMINAL),
    "sibling": ("city", "county_b", Line.CRIMINAL),
    "parent": ("city", "city", Line.CRIMINAL),
    "unlined": ("city", "county_a", ""),
    "other_city": ("other_city", "other_city", Line.CRIMINAL),
}
READ_OPS = {"read_task_page", "read_task_api", "read_reports_api", "read_reminders_api"}
FOLLOW = only({r: {"county", "station", "sibling", "parent"} for r in ("office", "reporter",
                                                                    "approver", "leader")})  # fmt: skip

EXPECTED: Expected = {
    op: FOLLOW if op in READ_OPS or op == "evidence_page" else only({}) for op in UNIT_EXPECTED
}


@pytest.mark.parametrize("role", MATRIX_ROLES)
@time_machine.travel("2017-07-10 10:00 +0800", tick=False)
def test_line_cells(tree, settings, tmp_path, role: str) -> None:
    settings.MEDIA_ROOT = tmp_path
    OrgUnit.objects.filter(pk=tree.division.pk).update(line=Line.CRIMINAL)
    tasks: dict[str, Task] = {
        relation: make_task(getattr(tree, issuer), getattr(tree, lead), line=line)
        for relation, (issuer, lead, line) in PLACES.items()
    }
    act, effect = cell_runner(log_in_actor(tree.division, role), tasks, tmp_path)
    assert role_faults(EXPECTED, role, LINE_RELATIONS, act, effect) == []


def test_the_line_matrix_walks_every_task_route() -> None:
    assert set(EXPECTED) == set(UNIT_EXPECTED)
