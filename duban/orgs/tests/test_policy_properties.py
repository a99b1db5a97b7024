"""The policy answers one question two ways, and they must agree (issue 11, item 1).

`can(user, action, unit)` decides for one unit; `visible_units(user, action)` lists every
unit for pages and API lists; `allowed_units(user, action, units)` picks from given units (an
import's). Both come from the one rule table, grant by grant; over random
trees and random grants, for every action and every unit, the list holds exactly the units
`can` allows. The system actor is allowed everything, and refused inside a request.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duban.audit.context import acting_as
from duban.orgs import policy
from duban.orgs.models import Line, Membership, OrgUnit, Role
from duban.orgs.policy import SYSTEM, Action
from duban.testing import make_unit, make_user

pytestmark = pytest.mark.django_db


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[int | None], list[tuple[Role, int]]]:
    """A forest of up to 9 units (each unit's parent comes before it) and up to 6 grants of
    a few roles, so one role is often held at nested units (where reaches overlap)."""
    n = draw(st.integers(1, 9))
    parents: list[int | None] = [None]
    for i in range(1, n):
        parents.append(draw(st.one_of(st.none(), st.integers(0, i - 1))))
    roles = draw(st.lists(st.sampled_from(list(Role)), min_size=1, max_size=3, unique=True))
    grants = draw(st.lists(st.tuples(st.sampled_from(roles), st.integers(0, n - 1)), max_size=6))
    return parents, grants


LINES = ["", Line.TRAFFIC, Line.CRIMINAL]


def _build(
    parents: list[int | None], grants: list[tuple[Role, int]], lines: list[str] | None = None
) -> tuple[object, list]:
    """Units U0… (a unit with a line is a division heading it), a user holding the grants."""
    units: list[OrgUnit] = []
    for i, parent in enumerate(parents):
        line = lines[i] if lines else ""
        kind = "division" if line else "territorial"
        units.append(
            make_unit(f"U{i}", units[parent] if parent is not None else None, kind=kind, line=line)
        )
    user = make_user("someone")
    for role, at in set(grants):
        Membership.objects.create(user=user, unit=units[at], role=role)
    return user, units


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=worlds())
def test_can_and_visible_units_agree_for_every_action(world) -> None:
    parents, grants = world
    with transaction.atomic():
        user, units = _build(parents, grants)
        for action in Action:
            listed = set(policy.visible_units(user, action).values_list("pk", flat=True))
            assert policy.allowed_units(user, action, units) == listed, action
            for unit in units:
                assert policy.can(user, action, unit) == (unit.pk in listed), (
                    f"{action}: can says {policy.can(user, action, unit)} for {unit.path}, "
                    f"grants {sorted((r.value, units[i].path) for r, i in set(grants))}"
                )
        transaction.set_rollback(True)


def test_an_approver_at_the_city_and_at_a_county_approves_that_county(tree) -> None:
    """The disagreement the property found in the old code: the county grant's own path was
    dropped from the list although the city grant reaches it."""
    user = make_user("two_hats", tree.city, "approver")
    Membership.objects.create(user=user, unit=tree.county_a, role="approver")
    assert policy.can(user, Action.APPROVE_DATA, tree.county_a)
    listed = policy.visible_units(user, Action.APPROVE_DATA)
    assert set(listed.values_list("code", flat=True)) == {
        "COUNTY-A",
        "COUNTY-B",
        "STATION-A1",
        "DIV",
    }


def test_the_system_may_do_everything_from_the_shell(tree) -> None:
    for action in Action:
        assert policy.can(SYSTEM, action, tree.county_a)
        assert policy.visible_units(SYSTEM, action).count() == OrgUnit.objects.count()
    assert policy.person(SYSTEM) is None


@pytest.mark.parametrize("source", ["web", "api"])
def test_no_request_can_act_as_the_system(tree, source: str) -> None:
    """A view that passed the system actor would skip the policy for whoever is signed in."""
    with acting_as(source=source), pytest.raises(PermissionDenied, match="只能在命令行中使用"):
        policy.can(SYSTEM, Action.VIEW_DATA, tree.city)


def test_none_is_no_actor(tree) -> None:
    with pytest.raises(TypeError, match=r"policy\.SYSTEM"):
        policy.can(None, Action.VIEW_DATA, tree.city)  # type: ignore[arg-type]


@st.composite
def lined_worlds(draw: st.DrawFn) -> tuple[list[int | None], list[tuple[Role, int]], list[str]]:
    """A world whose units may be divisions heading a line, with tasks of each line."""
    parents, grants = draw(worlds())
    lines = [draw(st.sampled_from(LINES)) for _ in parents]
    return parents, grants, lines


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(world=lined_worlds())
def test_line_reach_agrees_in_can_visible_units_and_data_filter(world) -> None:
    """A division's roles read their line's data in the territorial units under the
    division's parent (issue 11, item 2): `can(…, line=…)`, `visible_units(…, line=…)` and
    `data_filter` on rows of data say the same, for every line and unit."""
    from datetime import date

    from duban.tasks.models import Task

    parents, grants, lines = world
    with transaction.atomic():
        user, units = _build(parents, grants, lines)
        tasks = [
            Task.objects.create(
                title=f"t{n}",
                issuing_unit=units[0],
                lead_unit=unit,
                line=line,
                start_date=date(2017, 1, 1),
                due_date=date(2017, 12, 31),
            )
            for n, (unit, line) in enumerate((u, ln) for u in units for ln in LINES)
        ]
        for action in Action:
            for line in LINES:
                listed = set(
                    policy.visible_units(user, action, line=line).values_list("pk", flat=True)
                )
                for unit in units:
                    assert policy.can(user, action, unit, line=line) == (unit.pk in listed)
            readable = set(
                Task.objects.filter(
                    policy.data_filter(user, action, unit="lead_unit", line="line")
                ).values_list("pk", flat=True)
            )
            for task in tasks:
                allowed = policy.can(user, action, task.lead_unit, line=task.line)
                assert allowed == (task.pk in readable), (action, task.lead_unit.path, task.line)
        transaction.set_rollback(True)


def test_a_traffic_division_reads_traffic_data_of_the_counties_and_nothing_else(tree) -> None:
    """DOMAIN.md: the traffic division owns yellow-label vehicles; it ranks the counties on
    them, and does not read their discipline cases."""
    traffic = make_unit("TRAFFIC", tree.city, level="city", kind="division", line=Line.TRAFFIC)
    head = make_user("traffic_head", traffic, "leader")
    for unit in (tree.county_a, tree.county_b, tree.station_a1, tree.city):
        assert policy.can(head, Action.VIEW_DATA, unit, line=Line.TRAFFIC)
        assert not policy.can(head, Action.VIEW_DATA, unit, line=Line.CRIMINAL)
        assert not policy.can(head, Action.VIEW_DATA, unit)  # data of no line
        assert policy.lines_at(head, unit) == {Line.TRAFFIC}
    assert not policy.can(head, Action.VIEW_DATA, tree.division, line=Line.TRAFFIC)  # 刑侦支队
    assert not policy.can(head, Action.VIEW_DATA, tree.other_city, line=Line.TRAFFIC)
    assert not policy.can(head, Action.ENTER_DATA, tree.county_a, line=Line.TRAFFIC)
    assert policy.lines_at(head, traffic) is None  # its own unit: everything
