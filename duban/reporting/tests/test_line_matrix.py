"""The division-line cells of the reporting matrix: every role at a division heading a line
(条线) × the territorial units under the division's parent × the reporting routes, over HTTP.

The actor holds one role at 刑侦支队 (DIV, the criminal line, under CITY); the form's
`case.filed` belongs to that line. Cells are written by hand: a line reaches the line's
figures for reading only — every read of a county's, a station's, a sibling county's and
the city's own form answers, and no write, submission, approval, lock or whole-form
template does. That the reader sees only the line's rows is test_lines.py's business.
"""

from __future__ import annotations

import pytest

from duban.indicators.models import Indicator
from duban.orgs.models import Line, OrgUnit
from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.models import Submission
from duban.reporting.tests.conftest import make_form
from duban.reporting.tests.test_permission_matrix import AFTER, GIVEN, do, effect
from duban.reporting.tests.test_permission_matrix import EXPECTED as UNIT_EXPECTED
from duban.testing import MATRIX_ROLES, Expected, log_in_actor, only, role_faults

# Where the target unit sits, seen from the division: the line's territory is CITY's subtree.
LINE_RELATIONS = ["county", "station", "sibling", "parent"]
TARGETS = {"county": "COUNTY-A", "station": "STATION-A1", "sibling": "COUNTY-B", "parent": "CITY"}

LINE = {"county", "station", "sibling", "parent"}
READ = only({r: LINE for r in ("office", "reporter", "approver", "leader")})
NOWHERE = only({})

# the reads a line reaches; the template is the whole form: for its reporters
ALONG = {"read_form_page", "read_form_api", "read_overview_page", "read_overview_api",
         "read_export_api"}  # fmt: skip
EXPECTED: Expected = {op: READ if op in ALONG else NOWHERE for op in UNIT_EXPECTED}


@pytest.fixture
def line_form(tree):
    form = make_form(tree, expiry_days=0, levels=["city", "county", "station"])
    OrgUnit.objects.filter(pk=tree.division.pk).update(line=Line.CRIMINAL)
    Indicator.objects.filter(code="case.filed").update(line=Line.CRIMINAL)
    for unit in (tree.county_a, tree.station_a1, tree.county_b, tree.city):
        services.save_form(form.data_set, unit, "201712", {"case.filed": "3"}, user=SYSTEM)
    return form


@pytest.mark.parametrize("role", MATRIX_ROLES)
def test_line_cells(tree, line_form, role: str) -> None:
    client = log_in_actor(tree.division, role)

    units = {relation: OrgUnit.objects.get(code=code) for relation, code in TARGETS.items()}

    def act(op: str, relation: str) -> int:
        if op in GIVEN:
            Submission.objects.filter(unit=units[relation]).update(state=GIVEN[op])
        return do(client, op, units[relation])

    def changed(op: str, relation: str) -> bool | None:
        return effect(op, units[relation])

    assert role_faults(EXPECTED, role, LINE_RELATIONS, act, changed) == []


def test_the_line_matrix_walks_every_state_changing_route() -> None:
    assert set(GIVEN) == set(AFTER) <= set(EXPECTED) == set(UNIT_EXPECTED)
