"""The new rule parameters through the app: item editing and the xlsx scheme sheet."""

from __future__ import annotations

from decimal import Decimal

import pytest

from duban.errors import DubanError
from duban.evaluation import engine, services, sheets
from duban.evaluation.builder import scheme_to_engine
from duban.evaluation.models import SchemeItem
from duban.evaluation.tests.test_builder import _block, yz_units  # noqa: F401
from duban.evaluation.tests.test_sheets import _rewrite
from duban.orgs.policy import SYSTEM

D = Decimal
pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    ("code", "rule", "stored", "built"),
    [
        (
            "solved",
            {"kind": "attainment", "cap": "none"},
            {"kind": "attainment", "cap": "none"},
            engine.Attainment(cap=None),
        ),
        (
            "solved",
            {"kind": "threshold", "else_points": "8"},
            {"kind": "threshold", "else_points": "8"},
            engine.Threshold(else_points=D(8)),
        ),
        (
            "solved",
            {"kind": "shortfall", "per_point": "0.5", "basis": "value"},
            {"kind": "shortfall", "per_point": "0.5", "basis": "value"},
            engine.Shortfall(D("0.5"), basis="value"),
        ),
    ],
)
def test_an_item_takes_the_new_rule_parameters(scheme, personas, code, rule, stored, built) -> None:  # type: ignore[no-untyped-def]
    copy = services.copy_scheme_as_draft(scheme, user=personas.province_office)
    item = SchemeItem.objects.get(scheme=copy, code=code)
    services.update_item(item, user=personas.province_office, rule=rule)
    item.refresh_from_db()
    assert item.rule == stored
    assert scheme_to_engine(copy).item_map[code].rule == built


def test_both_else_share_and_else_points_are_refused_naming_the_item(scheme, personas) -> None:  # type: ignore[no-untyped-def]
    copy = services.copy_scheme_as_draft(scheme, user=personas.province_office)
    item = SchemeItem.objects.get(scheme=copy, code="solved")
    rule = {"kind": "threshold", "else_share": "0.5", "else_points": "4"}
    with pytest.raises(DubanError) as caught:
        services.update_item(item, user=personas.province_office, rule=rule)
    assert [(p.where, p.message) for p in caught.value.problems] == [
        ("rule", "item solved: give else_share or else_points, not both")
    ]
    item.refresh_from_db()
    assert item.rule == {"kind": "attainment", "cap": "1"}  # unchanged


def test_the_sheet_carries_the_new_parameters(yz_units: None) -> None:  # noqa: F811
    scheme = services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    data = sheets.export_scheme_xlsx(scheme)
    data = _rewrite(data, "items", "H2", "cap=none")  # crackdown.solved, attainment
    data = _rewrite(data, "items", "H3", "per_point=0.5; basis=value")  # clearance, shortfall
    data = _rewrite(data, "items", "H8", "else_points=30")  # tasks.ontime, threshold (50)
    data = _rewrite(data, "scheme", "B1", "yz-copy")
    copy = sheets.import_scheme_xlsx(data, user=SYSTEM)
    items = scheme_to_engine(copy).item_map
    assert items["crackdown.solved"].rule == engine.Attainment(cap=None)
    assert items["crackdown.clearance"].rule == engine.Shortfall(D("0.5"), basis="value")
    assert items["tasks.ontime"].rule == engine.Threshold(else_points=D(30))
    again = sheets.import_scheme_xlsx(
        _rewrite(sheets.export_scheme_xlsx(copy), "scheme", "B1", "yz-again"), user=SYSTEM
    )
    assert scheme_to_engine(again).items == scheme_to_engine(copy).items
