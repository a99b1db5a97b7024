"""What-if: a draft copy's weights and targets move scores without touching the original."""

from __future__ import annotations

import pytest

from duban.errors import DubanError
from duban.evaluation import services
from duban.evaluation.models import SchemeItem
from duban.evaluation.scoring import score
from duban.orgs.policy import SYSTEM


def test_copy_edit_compare_leaves_the_original_alone(scheme, personas) -> None:
    before = services.export_scheme_yaml(scheme)
    copy = services.copy_scheme_as_draft(scheme, user=personas.province_office)
    item = SchemeItem.objects.get(scheme=copy, code="solved")
    services.update_item(item, user=personas.province_office, points="40")
    services.set_targets(item, {"COUNTY-B": "40"}, user=personas.province_office)
    rows = {m.unit: m for m in services.compare_what_if(copy, "2017Q1")}
    assert rows["COUNTY-B"].total_after > rows["COUNTY-B"].total_before
    assert rows["COUNTY-B"].rank_after < rows["COUNTY-B"].rank_before
    assert services.export_scheme_yaml(scheme) == before
    assert score(scheme, "2017Q1").result.units["COUNTY-B"].display == rows["COUNTY-B"].total_before


def test_published_scheme_is_not_edited(scheme) -> None:
    with pytest.raises(DubanError) as caught:
        services.update_item(
            SchemeItem.objects.get(scheme=scheme, code="solved"), user=SYSTEM, points="5"
        )
    assert caught.value.status == 409


def test_bad_rule_parameters_are_named(scheme, personas) -> None:
    copy = services.copy_scheme_as_draft(scheme, user=personas.province_office)
    item = SchemeItem.objects.get(scheme=copy, code="poll")
    with pytest.raises(DubanError) as caught:
        services.update_item(
            item, user=SYSTEM, rule={"kind": "rank", "per_place": "x"}, points="-1"
        )
    assert {p.where for p in caught.value.problems} >= {"rule.per_place"}
    item.refresh_from_db()
    assert item.rule == {"kind": "rank", "per_place": "2"}
