"""Rows ⇄ engine: the documented YAML example imported, scored as the file is, exported back."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from duban.errors import DubanError
from duban.evaluation import engine, services
from duban.evaluation.builder import scheme_to_engine
from duban.evaluation.models import Scheme, SchemeItem
from duban.orgs.policy import SYSTEM
from duban.testing import make_unit

DOC = Path(__file__).resolve().parents[3] / "docs" / "scheme-format.md"


def _block(marker: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    return re.search(rf"<!-- {marker} -->\n```\w+\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]


@pytest.fixture
def yz_units(db: None) -> None:
    root = make_unit("yz", None, level="city")
    for code in ("lst", "ll", "qy", "da", "dx", "jh"):
        make_unit(code, root, level="county")
    for code in ("jjzd", "xzzd", "zazd"):
        make_unit(code, root, level="city", kind="division")


def test_yaml_import_builds_the_same_engine_scheme(yz_units: None) -> None:
    text = _block("example-scheme")
    scheme = services.import_scheme_yaml(text, user=SYSTEM)
    built, parsed = scheme_to_engine(scheme), engine.parse_scheme(text)
    # unit names come from the organisation tree, not from the file
    assert [(u.code, u.level) for u in built.units] == [(u.code, u.level) for u in parsed.units]
    assert replace(parsed, units=built.units) == built
    assert SchemeItem.objects.get(scheme=scheme, code="crackdown.clearance").rule_text.startswith(
        "破案率达到目标"
    )


def test_yaml_round_trip_is_stable(yz_units: None) -> None:
    scheme = services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    exported = services.export_scheme_yaml(scheme)
    assert engine.parse_scheme(exported) == scheme_to_engine(scheme)
    again = services.import_scheme_yaml(exported, user=SYSTEM)  # replaces the draft in place
    assert again.pk == scheme.pk and services.export_scheme_yaml(again) == exported


def test_db_scores_equal_file_scores_on_the_documented_example(yz_units: None) -> None:
    scheme = services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    built = engine.parse_scheme(_block("example-scheme"))
    table = engine.parse_values(_block("example-values"), built)
    result = engine.compute_scores(
        scheme_to_engine(scheme), table.values, "2017", reasons=table.reasons
    )
    assert str(result.units["da"].display) == "59.00"
    assert str(result.units["dx"].display) == "95.00" and result.units["dx"].vetoed


def test_bad_file_names_every_problem_and_writes_nothing(yz_units: None) -> None:
    text = (
        _block("example-scheme")
        .replace("category: pursuit", "category: pursuitt")
        .replace("{code: jh,", "{code: nosuch,")
    )
    with pytest.raises(DubanError) as caught:
        services.import_scheme_yaml(text, user=SYSTEM)
    wheres = {p.where for p in caught.value.problems}
    assert "items[2].category" in wheres
    assert Scheme.objects.count() == 0


def test_unit_codes_must_exist_below_the_issuer(yz_units: None) -> None:
    make_unit("elsewhere", None, level="county")
    text = (
        _block("example-scheme")
        .replace("{code: jh,", "{code: elsewhere,")
        .replace("[lst, ll, qy, da, dx, jh]", "[lst, ll, qy, da, dx, elsewhere]")
        .replace("jh: 200", "elsewhere: 200")
    )
    with pytest.raises(DubanError) as caught:
        services.import_scheme_yaml(text, user=SYSTEM)
    assert [p.where for p in caught.value.problems] == ["units[5].code"]
    assert Scheme.objects.count() == 0


def test_a_published_scheme_is_not_replaced(yz_units: None) -> None:
    scheme = services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    services.publish_scheme(scheme, user=SYSTEM)
    with pytest.raises(DubanError) as caught:
        services.import_scheme_yaml(_block("example-scheme"), user=SYSTEM)
    assert caught.value.status == 409
