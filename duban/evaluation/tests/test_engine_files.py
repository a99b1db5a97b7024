"""Scheme YAML (round trip, every error path) and values CSV (line and column errors)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from duban.errors import DubanError
from duban.evaluation.engine import (
    QUOTA_GRADES,
    Attainment,
    Band,
    Bonus,
    Deduction,
    Discretionary,
    PeerGroup,
    Rank,
    RelativeToBest,
    SchemeFileError,
    Sequence,
    Shortfall,
    Steps,
    Text,
    Threshold,
    ValuesFileError,
    Veto,
    WeightedCount,
    dump_scheme,
    load_scheme,
    load_values,
    parse_scheme,
    parse_values,
)
from duban.evaluation.tests import D, make_item, make_scheme, make_units
from duban.periods import StatisticalCalendar

DOCS = Path(__file__).resolve().parents[3] / "docs" / "scheme-format.md"


def docs_block(marker: str) -> str:
    """The fenced block that follows ``<!-- marker -->`` in docs/scheme-format.md."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker} -->\n```[a-z]*\n(.*?)```", text, re.S)
    assert found, f"no {marker} block in {DOCS}"
    return found.group(1)


# ---------------------------------------------------------------- round trips


def test_the_documented_example_loads_and_round_trips() -> None:
    scheme = parse_scheme(docs_block("example-scheme"))
    assert scheme.code == "yz-2017"
    assert scheme.calendar == StatisticalCalendar(12, 21)
    assert len(scheme.items) == 12
    assert {item.rule.kind for item in scheme.items} == {
        "attainment",
        "shortfall",
        "weighted_count",
        "rank",
        "steps",
        "threshold",
        "relative_to_best",
        "deduction",
        "discretionary",
        "bonus",
        "veto",
    }
    text = dump_scheme(scheme)
    assert parse_scheme(text) == scheme
    assert dump_scheme(parse_scheme(text)) == text


def test_a_scheme_with_every_feature_round_trips() -> None:
    items = [
        make_item(
            "a1", Attainment(D("1.2")), points="12.5", target="0.1", unit_targets={"b": "0.30"}
        ),
        make_item(
            "a2", Shortfall(D("0.25")), unit_targets={"a": 90}, rule_text="每低1个百分点扣0.25分"
        ),
        make_item("a3", Rank(D(2)), not_ranked_levels=("station",), levels=("county",)),
        make_item("a4", RelativeToBest(), direction="lower", groups=("g",)),
        make_item("a5", Steps((Band(D(2), D(5)), Band(D(5), D(3))), "at_most"), direction="lower"),
        make_item("a6", Steps((Band(D(90), D(6)),), "at_least", "rate"), target=100),
        make_item("a7", Threshold(D("0.5")), target=3, cumulative=True),
        make_item("a8", WeightedCount((("A", D(10)), ("local", D(1)))), indicator="fugitive"),
        make_item("a9", Deduction(D(5)), direction="lower"),
        make_item("b1", Discretionary(D(1), D(10))),
        make_item("b2", Bonus(D(2), D(3))),
        make_item("b3", Veto(), points=0),
    ]
    group = PeerGroup(
        "g",
        Text("组", "Group"),
        ("a", "b", "c", "d"),
        (Sequence("A", Text("A类"), ("a", "b")), Sequence("B", Text("B类", "Group B"), ("c", "d"))),
    )
    scheme = make_scheme(
        items, groups=(group,), grades=QUOTA_GRADES, calendar=StatisticalCalendar(12, 21)
    )
    assert parse_scheme(dump_scheme(scheme)) == scheme


def test_numbers_are_read_exactly() -> None:
    scheme = parse_scheme(docs_block("example-scheme").replace("per_point: 0.5", "per_point: 0.1"))
    rule = scheme.item_map["crackdown.clearance"].rule
    assert isinstance(rule, Shortfall)
    assert rule.per_point == D("0.1") and str(rule.per_point) == "0.1"


def test_load_scheme_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "scheme.yaml"
    path.write_text(docs_block("example-scheme"), encoding="utf-8-sig")  # with a BOM
    assert load_scheme(path).code == "yz-2017"
    with pytest.raises(SchemeFileError, match="cannot read"):
        load_scheme(tmp_path / "nowhere.yaml")


# ---------------------------------------------------------------- error paths

BASE: dict[str, Any] = {
    "code": "t",
    "name": {"zh": "测试", "en": "Test"},
    "year": 2017,
    "issuer": "city",
    "units": [
        {"code": "a", "name": "甲", "level": "county"},
        {"code": "b", "name": "乙", "level": "county"},
    ],
    "groups": [{"code": "g", "name": "组", "members": ["a", "b"]}],
    "categories": [{"code": "c", "name": "类", "points": 30}],
    "items": [
        {
            "code": "i0",
            "category": "c",
            "name": "破案率",
            "points": 10,
            "rule": {"kind": "shortfall", "per_point": 1},
            "target": 85,
        },
        {
            "code": "i1",
            "category": "c",
            "name": "民调",
            "points": 10,
            "rule": {
                "kind": "steps",
                "bands": [{"at_least": 85, "points": 6}, {"at_least": 90, "points": 8}],
            },
        },
        {
            "code": "i2",
            "category": "c",
            "name": "酌情",
            "points": 10,
            "rule": {"kind": "discretionary", "min": 1, "max": 10},
        },
    ],
}


def problems_of(change: Callable[[dict[str, Any]], object]) -> list[str]:
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(SchemeFileError) as caught:
        parse_scheme(yaml.safe_dump(data, allow_unicode=True))
    return [str(problem) for problem in caught.value.problems]


def test_the_base_scheme_is_valid() -> None:
    assert parse_scheme(yaml.safe_dump(BASE, allow_unicode=True)).code == "t"


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """A change that sets one value, addressed like ``items.0.rule.per_point``."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if value is DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


DELETE = object()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set("items.0.rule.per_point", "x"), "items[0].rule.per_point: must be a number"),
        (_set("items.0.rule.per_point", -1), "items[0].rule.per_point: must be at least 0"),
        (_set("items.0.rule.per_point", DELETE), "items[0].rule.per_point: is required"),
        (_set("items.0.rule.per_piont", 1), "items[0].rule.per_piont: unknown key"),
        (
            _set("items.0.rule.kind", "magic"),
            "items[0].rule.kind: 指标 i0：未知的计分规则类型“magic”",
        ),
        (_set("items.0.rule", "shortfall"), "items[0].rule: must be a mapping"),
        (_set("items.0.category", "zzz"), "items[0].category: unknown category 'zzz'"),
        (_set("items.0.points", -1), "items[0].points: must be at least 0"),
        (_set("items.0.points", True), "items[0].points: must be a number"),
        (_set("items.0.direction", "up"), "items[0].direction: must be one of higher, lower"),
        (_set("items.0.cumulative", "yes please"), "items[0].cumulative: must be true or false"),
        (
            _set("items.0.target", {"default": 85, "units": {"zz": 1}}),
            "items[0].target.units.zz: unknown unit 'zz'",
        ),
        (_set("items.0.target", {"default": -5}), "items[0].target.default: must be at least 0"),
        (
            _set("items.0.target", {"units": {"a": "many"}}),
            "items[0].target.units.a: must be a number",
        ),
        (_set("items.0.levels", ["galaxy"]), "items[0].levels[0]: unknown level 'galaxy'"),
        (
            _set("items.0.not_ranked_levels", ["galaxy"]),
            "items[0].not_ranked_levels[0]: unknown level 'galaxy'",
        ),
        (_set("items.0.groups", ["nope"]), "items[0].groups[0]: unknown peer group 'nope'"),
        (_set("items.0.code", "i1"), "items[1].code: duplicate code 'i1'"),
        (_set("items.0.code", "bad code!"), "items[0].code: 'bad code!' is not a valid code"),
        (_set("items.0.name", DELETE), "items[0].name: is required"),
        (_set("items.0.flavour", "sweet"), "items[0].flavour: unknown key"),
        (
            _set(
                "items.1.rule.bands", [{"at_least": 90, "points": 8}, {"at_least": 85, "points": 6}]
            ),
            "items[1].rule.bands[1]: bands must be in strictly ascending order",
        ),
        (
            _set("items.1.rule.bands", [{"at_most": 2, "points": 5}]),
            "items[1].rule.bands: direction higher needs at_least bands",
        ),
        (
            _set("items.1.rule.bands", [{"at_least": 85, "points": 60}]),
            "items[1].rule.bands[0].points: must not exceed the item's points",
        ),
        (
            _set("items.1.rule.bands", [{"at_least": 85, "at_most": 90, "points": 6}]),
            "items[1].rule.bands[0]: give either at_least or at_most, not both",
        ),
        (_set("items.1.rule.bands", []), "items[1].rule.bands: must list at least one band"),
        (_set("items.1.rule.basis", "mood"), "items[1].rule.basis: must be one of value, rate"),
        (
            _set("items.1.direction", "lower"),
            "items[1].rule.bands: direction lower needs at_most bands",
        ),
        (
            _set(
                "items.1.rule",
                {"kind": "steps", "basis": "rate", "bands": [{"at_most": 5, "points": 1}]},
            ),
            "items[1].rule.bands: basis rate needs at_least bands",
        ),
        (_set("items.2.rule.max", 11), "items[2].rule.max: must not exceed the item's points"),
        (
            _set("items.2.rule", {"kind": "discretionary", "min": 5, "max": 2}),
            "items[2].rule.max: must not be below min",
        ),
        (
            _set("items.2.rule", {"kind": "bonus", "per_occurrence": 1, "cap": 20}),
            "items[2].rule.cap: must not exceed the item's points",
        ),
        (
            _set("items.2.rule", {"kind": "veto"}),
            "items[2].points: a veto item carries no points (must be 0)",
        ),
        (
            _set("items.2.rule", {"kind": "weighted_count", "weights": {}}),
            "items[2].rule.weights: must be a non-empty mapping of code: number",
        ),
        (
            _set("items.2.rule", {"kind": "weighted_count", "weights": {"A.1": 2}}),
            "items[2].rule.weights.A.1: class codes use letters, digits, '_' or '-'",
        ),
        (
            _set("items.2.rule", {"kind": "attainment", "cap": 0}),
            "items[2].rule.cap: must be greater than 0",
        ),
        (
            _set("items.2.rule", {"kind": "threshold", "else_share": 2}),
            "items[2].rule.else_share: must be at most 1",
        ),
        (_set("units.1.code", "a"), "units[1].code: duplicate code 'a'"),
        (_set("units.1.level", DELETE), "units[1].level: is required"),
        (_set("groups.0.members", ["a", "b", "zz"]), "groups[0].members[2]: unknown unit 'zz'"),
        (_set("groups.0.members", ["a"]), "units[1]: unit 'b' belongs to no peer group"),
        (
            _set(
                "groups",
                [
                    {"code": "g", "name": "组", "members": ["a", "b"]},
                    {"code": "h", "name": "组2", "members": ["b"]},
                ],
            ),
            "groups[1].members[0]: 'b' is already in group 'g'",
        ),
        (
            _set("groups.0.sequences", [{"code": "A", "name": "A类", "members": ["a"]}]),
            "groups[0].sequences: unit 'b' is in no sequence",
        ),
        (
            _set("groups.0.sequences", [{"code": "A", "name": "A类", "members": ["a", "b", "zz"]}]),
            "groups[0].sequences[0].members[2]: 'zz' is not a member of group 'g'",
        ),
        (_set("categories.0.points", "lots"), "categories[0].points: must be a number"),
        (_set("year", DELETE), "year: is required"),
        (_set("items", []), "items: must list at least one"),
        (_set("year", 1066), "year: must be at least 1900"),
        (_set("name", {"en": "only English"}), "name.zh: is required"),
        (
            _set("calendar", {"start_month": 12, "start_day": 31}),
            "calendar: start_day must be an integer 1..28, got 31",
        ),
        (_set("calendar", {"start_month": "Dec"}), "calendar.start_month: must be an integer"),
        (
            _set("max_items_per_level", {"galaxy": 3}),
            "max_items_per_level.galaxy: unknown level 'galaxy'",
        ),
        (
            _set("max_items_per_level", {"county": 0}),
            "max_items_per_level.county: must be at least 1",
        ),
        (
            _set(
                "grades",
                [{"code": "x", "name": "优", "min": 60}, {"code": "y", "name": "良", "min": 80}],
            ),
            "grades[1].min: grades must be listed from the highest min down",
        ),
        (
            _set("grades", [{"code": "x", "name": "优", "min": 60}]),
            "grades[0].min: the lowest grade must start at 0 (it takes every other total)",
        ),
        (
            _set(
                "grades",
                [
                    {"code": "x", "name": "优", "min": 90},
                    {"code": "y", "name": "差", "min": 0, "quota": {"at_most_percent": 50}},
                ],
            ),
            "grades[1].quota: the lowest grade cannot have an at-most quota",
        ),
        (
            _set(
                "grades",
                [
                    {"code": "x", "name": "优", "min": 90, "quota": {"at_least_percent": 5}},
                    {"code": "y", "name": "差", "min": 0},
                ],
            ),
            "grades[0].quota: only the lowest grade can have an at-least quota",
        ),
        (
            _set(
                "grades",
                [
                    {
                        "code": "y",
                        "name": "差",
                        "min": 0,
                        "quota": {"at_least_percent": 5, "at_most_percent": 9},
                    }
                ],
            ),
            "grades[0].quota: give exactly one of at_most_percent or at_least_percent",
        ),
        (
            _set(
                "grades",
                [{"code": "y", "name": "差", "min": 0, "quota": {"at_least_percent": 150}}],
            ),
            "grades[0].quota.at_least_percent: must be at most 100",
        ),
    ],
)
def test_every_problem_is_named_with_its_path(
    change: Callable[[dict[str, Any]], object], expected: str
) -> None:
    found = problems_of(change)
    assert any(problem.startswith(expected) for problem in found), found


def test_every_problem_is_listed_at_once_and_nothing_is_returned() -> None:
    def many(data: dict[str, Any]) -> None:
        data["items"][0]["rule"]["per_point"] = "x"
        data["items"][1]["points"] = -1
        data["units"].append({"code": "c", "name": "丙"})
        data["year"] = "MMXVII"

    found = problems_of(many)
    assert found == [
        "year: must be an integer",
        "units[2].level: is required",
        "items[0].rule.per_point: must be a number",
        "items[1].points: must be at least 0",
    ]


def test_the_error_is_a_value_error_and_a_duban_error() -> None:
    with pytest.raises(SchemeFileError) as caught:
        parse_scheme("code: t\n", source="yz.yaml")
    error = caught.value
    assert isinstance(error, ValueError) and isinstance(error, DubanError)
    assert str(error).startswith("scheme file yz.yaml: ")
    assert "  name: is required" in str(error).splitlines()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code: [unclosed\n", "line 2, column 1: not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("", "must be a mapping"),
    ],
)
def test_not_a_scheme_at_all(text: str, expected: str) -> None:
    with pytest.raises(SchemeFileError) as caught:
        parse_scheme(text)
    assert str(caught.value.problems[0]).startswith(expected)


# ---------------------------------------------------------------- values CSV


@pytest.fixture
def scheme() -> Any:
    items = [
        make_item("solved", Attainment(), target=100),
        make_item("fug", WeightedCount((("A", D(10)), ("local", D(1)))), indicator="fugitive"),
        make_item("mgmt", Discretionary(D(1), D(10))),
    ]
    return make_scheme(items, units=make_units("ab"))


def test_values_are_read_exactly(scheme: Any) -> None:
    text = (
        "indicator,period,unit,value,class,reason\n"
        "solved,2017,a,120.50,,\n"
        "solved,2017Q1,b,,,\n"  # empty: missing, not zero
        "fugitive,2017,a,2,A,\n"
        "fugitive.local,2017,a,3,,\n"  # the class written into the indicator code
        "mgmt,2017,a,3,,接处警记录不全\n"
        "solved,2019W01,a,1,,\n"  # period ids are normalised
    )
    found = parse_values(text, scheme)
    assert found.values == {
        ("solved", "a", "2017"): D("120.50"),
        ("solved", "b", "2017Q1"): None,
        ("fugitive.A", "a", "2017"): D(2),
        ("fugitive.local", "a", "2017"): D(3),
        ("mgmt", "a", "2017"): D(3),
        ("solved", "a", "2019W1"): D(1),
    }
    assert found.reasons == {("mgmt", "a", "2017"): "接处警记录不全"}


def test_columns_may_come_in_any_order_and_blank_lines_are_skipped(scheme: Any) -> None:
    text = "Unit,Value,Indicator,Period\na,5,solved,2017\n\n b , 6 , solved , 2017 \n"
    assert parse_values(text, scheme).values == {
        ("solved", "a", "2017"): D(5),
        ("solved", "b", "2017"): D(6),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["line 1: the file is empty"]),
        ("indicator,period,unit\n", ["line 1: missing column 'value'"]),
        ("indicator,period,unit,value,colour\n", ["line 1, column 5: unknown column 'colour'"]),
        ("indicator,period,unit,value,value\n", ["line 1, column 5: duplicate column 'value'"]),
        (
            "indicator,period,unit,value\nsolved,2017,a,1,000\n",
            ["line 2: expected 4 fields, found 5"],
        ),
        (
            'indicator,period,unit,value\nsolved,2017,a,"1,000"\n',
            ["line 2, column 4 (value): '1,000' is not a number"],
        ),
        (
            "indicator,period,unit,value\nsolved,2017,a,NaN\n",
            ["line 2, column 4 (value): 'NaN' is not a number"],
        ),
        (
            "indicator,period,unit,value\nsolve,2017,a,1\n",
            ["line 2, column 1 (indicator): unknown indicator 'solve'"],
        ),
        (
            "indicator,period,unit,value\nsolved,2017,zz,1\n",
            ["line 2, column 3 (unit): unknown unit 'zz'"],
        ),
        (
            "indicator,period,unit,value\nsolved,2017Q5,a,1\n",
            [
                "line 2, column 2 (period): invalid period identifier '2017Q5': quarter must be 1..4, got 5"
            ],
        ),
        (
            "indicator,period,unit,value,class\nfugitive,2017,a,1,B\n",
            ["line 2, column 5 (class): unknown class 'B' (expected one of: A, local)"],
        ),
        (
            "indicator,period,unit,value\nfugitive,2017,a,1\n",
            [
                "line 2, column 1 (indicator): indicator 'fugitive' is counted per class: give a class (A, local)"
            ],
        ),
        (
            "indicator,period,unit,value\nsolved,2017,a,1\nsolved,2017,b,2\nsolved,2017,a,3\n",
            ["line 4: duplicate of line 2 (same indicator, unit and period)"],
        ),
        (
            # a quoted value spanning two lines: the next row is reported at its own line
            'indicator,period,unit,value,reason\nmgmt,2017,a,2,"two\nlines"\nsolved,2017,zz,1,\n',
            ["line 4, column 3 (unit): unknown unit 'zz'"],
        ),
        (
            "indicator,period,unit,value\nsolve,2017,a,x\nsolved,20171,b,1\n",
            [
                "line 2, column 1 (indicator): unknown indicator 'solve'",
                "line 2, column 4 (value): 'x' is not a number",
                "line 3, column 2 (period): invalid period identifier '20171': unknown format "
                "(expected yyyy, yyyySn, yyyyQn, yyyyMM, yyyyWn or yyyyMMdd)",
            ],
        ),
    ],
)
def test_values_file_errors_name_line_and_column(
    scheme: Any, text: str, expected: list[str]
) -> None:
    with pytest.raises(ValuesFileError) as caught:
        parse_values(text, scheme)
    assert [str(problem) for problem in caught.value.problems] == expected


def test_load_values_reads_excel_csv(tmp_path: Path, scheme: Any) -> None:
    path = tmp_path / "values.csv"
    path.write_bytes("indicator,period,unit,value\r\nsolved,2017,a,7\r\n".encode("utf-8-sig"))
    assert load_values(path, scheme).values == {("solved", "a", "2017"): D(7)}
    with pytest.raises(ValuesFileError, match="cannot read"):
        load_values(tmp_path / "missing.csv", scheme)
