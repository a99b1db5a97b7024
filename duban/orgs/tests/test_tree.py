from __future__ import annotations

import pytest

from duban.audit.models import AuditEntry
from duban.errors import DubanError
from duban.orgs import services
from duban.orgs.models import Membership, OrgUnit, UnitMove
from duban.orgs.policy import SYSTEM
from duban.testing import make_unit, make_user


def test_path_and_depth_follow_the_parent(tree) -> None:
    assert tree.province.path == "/PROV/"
    assert tree.station_a1.path == "/PROV/CITY/COUNTY-A/STATION-A1/"
    assert (tree.province.depth, tree.city.depth, tree.station_a1.depth) == (0, 1, 3)


def test_subtree_is_one_query(tree, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        codes = sorted(OrgUnit.objects.subtree_of(tree.city).values_list("code", flat=True))
    assert codes == ["CITY", "COUNTY-A", "COUNTY-B", "DIV", "STATION-A1"]


def test_ancestors_are_one_query_root_first(tree, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        codes = [u.code for u in OrgUnit.objects.ancestors_of(tree.station_a1)]
    assert codes == ["PROV", "CITY", "COUNTY-A"]


def test_prefix_codes_do_not_leak_into_subtree(db) -> None:
    a = make_unit("A", None, level="city")
    make_unit("AB", None, level="city")
    make_unit("A1", a)
    assert sorted(OrgUnit.objects.subtree_of(a).values_list("code", flat=True)) == ["A", "A1"]


def test_move_keeps_history_and_rewrites_the_subtree(tree) -> None:
    reporter = make_user("r", tree.county_a, "reporter")
    entries_before = AuditEntry.objects.filter(unit=tree.county_a).count()
    move = services.move_unit(tree.county_a, tree.division, user=SYSTEM, reason="restructuring")
    tree.county_a.refresh_from_db()
    tree.station_a1.refresh_from_db()
    assert tree.county_a.path == "/PROV/CITY/DIV/COUNTY-A/"
    assert tree.station_a1.path == "/PROV/CITY/DIV/COUNTY-A/STATION-A1/"
    assert tree.station_a1.depth == 4
    assert Membership.objects.get(user=reporter).unit_id == tree.county_a.pk
    assert UnitMove.objects.get(pk=move.pk).old_path == "/PROV/CITY/COUNTY-A/"
    after = AuditEntry.objects.filter(unit=tree.county_a)
    assert after.count() > entries_before
    assert after.filter(action="orgs.orgunit.subtree_moved", reason="restructuring").exists()


def test_move_into_own_subtree_is_refused(tree) -> None:
    with pytest.raises(DubanError, match="形成循环"):
        services.move_unit(tree.city, tree.county_a, user=SYSTEM, reason="x")
    tree.city.refresh_from_db()
    assert tree.city.parent_id == tree.province.pk


def test_move_needs_a_reason(tree) -> None:
    with pytest.raises(DubanError) as exc:
        services.move_unit(tree.county_a, tree.county_b, user=SYSTEM, reason=" ")
    assert exc.value.problems[0].where == "reason"


def test_a_county_cannot_sit_below_a_station(tree) -> None:
    with pytest.raises(DubanError, match="level"):
        services.move_unit(tree.county_b, tree.station_a1, user=SYSTEM, reason="x")


def test_create_unit_validates_fields_by_name(tree) -> None:
    with pytest.raises(DubanError) as exc:
        services.create_unit(
            user=SYSTEM, parent=tree.city, code="bad code!", name_zh="", level="moon", kind="x"
        )
    fields = {p.where for p in exc.value.problems}
    assert {"code", "name_zh", "level", "kind"} <= fields
    assert not OrgUnit.objects.filter(name_zh="").exists()


def test_update_refuses_a_code_change(tree) -> None:
    with pytest.raises(DubanError) as exc:
        services.update_unit(tree.county_a, user=SYSTEM, code="NEW")
    assert exc.value.problems[0].where == "code"
