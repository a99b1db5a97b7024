"""Computed indicators in a scheme file, and totals from the summed raw figures.

The scheme is a monthly reform bulletin (通报) in miniature; every expected figure
is worked by hand in the comment beside it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from duban.evaluation.engine import compute_scores, dump_scheme, parse_scheme, parse_values
from duban.evaluation.engine.cli import score_files
from duban.evaluation.engine.files import SchemeFileError, ValuesFileError
from duban.evaluation.engine.totals import FORMULA, NONE, SUM, how_totalled, totals
from duban.evaluation.management.commands.score import Command
from duban.evaluation.tests import D

pytestmark = pytest.mark.usefixtures("english")

# Three districts in two sequences of one group, and a division in a group of its own.
# reform.rate = done ÷ task × 100 is computed; done is also scored by attainment against
# each unit's task (cap: none); cases are scored cumulatively; poll is a score typed in.
SCHEME = """
code: bulletin
name: 改革通报
year: 2017
issuer: city
units:
  - {code: a, name: 甲区, level: county}
  - {code: b, name: 乙区, level: county}
  - {code: c, name: 丙县, level: county}
  - {code: d, name: 交警支队, level: city}
groups:
  - code: area
    name: 地区
    members: [a, b, c]
    sequences:
      - {code: A, name: A组, members: [a, b]}
      - {code: B, name: B组, members: [c]}
  - {code: div, name: 部门, members: [d]}
categories:
  - {code: reform, name: 改革, points: 40}
  - {code: poll, name: 民调, points: 10}
indicators:
  - {code: reform.rate, name: 改革完成率, formula: "reform.done / reform.task * 100", decimals: 2}
  - {code: reform.task, name: 改革任务数}
items:
  - code: done
    category: reform
    indicator: reform.done
    name: 完成数
    points: 10
    rule: {kind: attainment, cap: none}
    target: {units: {a: 100, b: 200, c: 50}}
    groups: [area]
  - code: rate
    category: reform
    indicator: reform.rate
    name: 完成率
    points: 10
    rule: {kind: shortfall, per_point: 0.5, basis: value}
    target: 70
    groups: [area]
  - code: rate_ytd
    category: reform
    indicator: reform.rate
    name: 累计完成率
    points: 10
    rule: {kind: rank, per_place: 2}
    cumulative: true
    groups: [area]
  - code: cases
    category: reform
    indicator: cases
    name: 案件
    points: 10
    rule: {kind: deduction, per_occurrence: 2}
    cumulative: true
  - code: poll
    category: poll
    indicator: poll
    name: 民调
    points: 10
    rule: {kind: rank, per_place: 1}
"""

VALUES = """indicator,period,unit,value
reform.done,201701,a,20
reform.task,201701,a,40
reform.done,201702,a,60
reform.task,201702,a,60
reform.done,201701,b,90
reform.task,201701,b,100
reform.done,201702,b,10
reform.task,201702,b,100
reform.done,201702,c,15
reform.task,201702,c,20
cases,201701,a,1
cases,201702,a,0
cases,201701,b,2
cases,201701,c,0
cases,201702,c,1
cases,201702,d,3
poll,201702,a,90
poll,201702,b,80
poll,201702,c,85
"""


@pytest.fixture
def scheme():  # type: ignore[no-untyped-def]
    return parse_scheme(SCHEME)


@pytest.fixture
def values(scheme):  # type: ignore[no-untyped-def]
    return parse_values(VALUES, scheme).values


# ---------------------------------------------------------------- computed indicators


def test_a_computed_item_scores_its_formula_over_the_inputs(scheme, values) -> None:  # type: ignore[no-untyped-def]
    result = compute_scores(scheme, values, "201702")
    # February alone (non-cumulative): a 60/60 = 100 ≥ 70 → 10; b 10/100 = 10, 60 short × 0.5
    # = 30 off → 0; c 15/20 = 75 ≥ 70 → 10.
    rate = {u: result.units[u].items["rate"] for u in "abc"}
    assert [rate[u].value for u in "abc"] == [D(100), D(10), D(75)]
    assert [rate[u].score for u in "abc"] == [D(10), D(0), D(10)]


def test_a_cumulative_computed_item_takes_the_formula_over_the_year_to_date_sums(
    scheme,  # type: ignore[no-untyped-def]
    values,
) -> None:
    result = compute_scores(scheme, values, "201702")
    ytd = {u: result.units[u].items["rate_ytd"] for u in "abc"}
    # a: (20+60)/(40+60) = 80 (never 50 + 100 = 150, the sum of the monthly rates);
    # b: (90+10)/(100+100) = 50; c: January missing, 15/20 = 75, flagged incomplete.
    assert [ytd[u].value for u in "abc"] == [D(80), D(50), D(75)]
    # ranks within sequences: A: a 80 first (10), b second (10 − 2 = 8); B: c alone (10)
    assert [ytd[u].score for u in "abc"] == [D(10), D(8), D(10)]
    assert "incomplete" in ytd["c"].flags and "incomplete" not in ytd["a"].flags


def test_a_computed_indicator_with_a_missing_input_is_missing(scheme) -> None:  # type: ignore[no-untyped-def]
    values = parse_values("indicator,period,unit,value\nreform.done,201701,a,5\n", scheme).values
    item = compute_scores(scheme, values, "201701").units["a"].items["rate"]
    assert (item.value, item.score, item.flags) == (None, D(0), ("missing",))


def test_a_zero_divisor_gives_no_value(scheme) -> None:  # type: ignore[no-untyped-def]
    text = "indicator,period,unit,value\nreform.done,201701,a,0\nreform.task,201701,a,0\n"
    item = compute_scores(scheme, parse_values(text, scheme).values, "201701").units["a"]
    assert item.items["rate"].flags == ("missing",)


def test_a_value_for_a_computed_indicator_is_refused_naming_it_and_the_line(scheme) -> None:  # type: ignore[no-untyped-def]
    text = "indicator,period,unit,value\nreform.done,201701,a,5\nreform.rate,201701,a,50\n"
    with pytest.raises(ValuesFileError) as caught:
        parse_values(text, scheme)
    assert [str(p) for p in caught.value.problems] == [
        "line 3, column 1 (indicator): indicator 'reform.rate' is computed from its formula "
        "(reform.done / reform.task * 100): give its inputs (reform.done, reform.task), "
        "not its value"
    ]


def test_inputs_of_a_formula_are_accepted_in_the_values_file(scheme) -> None:  # type: ignore[no-untyped-def]
    assert {"reform.done", "reform.task"} <= scheme.value_keys
    assert "reform.rate" not in scheme.value_keys


def test_a_value_handed_in_for_a_computed_code_is_recomputed(scheme, values) -> None:  # type: ignore[no-untyped-def]
    stale = {**values, ("reform.rate", "a", "201702"): D(1)}
    item = compute_scores(scheme, stale, "201702").units["a"].items["rate"]
    assert item.value == D(100)  # 60 / 60 × 100, not the stale 1


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ('formula: "reform.done / reform.task * 100"', 'formula: "reform.done / reform.tsk"'),
            "indicators[0].formula: computed indicator reform.rate reads unknown indicator "
            "'reform.tsk' (list it under indicators: or score it in an item)",
        ),
        (
            (
                "{code: reform.task, name: 改革任务数}",
                '{code: reform.task, name: 任务, formula: "reform.rate"}',
            ),
            "indicators: cycle among computed indicators: reform.rate -> reform.task -> reform.rate",
        ),
        (
            ('formula: "reform.done / reform.task * 100"', 'formula: "reform.done > 1"'),
            "indicators[0].formula: computed indicator reform.rate: the formula is a condition",
        ),
        (
            ('formula: "reform.done / reform.task * 100"', 'formula: "reform.done /"'),
            "indicators[0].formula: computed indicator reform.rate: ",
        ),
        (
            (
                "{code: reform.task, name: 改革任务数}",
                "{code: reform.task, name: 任务, total: all}",
            ),
            "indicators[1].total: must be one of sum, none",
        ),
        (
            ("decimals: 2}", "decimals: 2, total: sum}"),
            "indicators[0].total: computed indicator reform.rate: its total is its formula",
        ),
    ],
)
def test_bad_computed_indicators_are_refused_naming_them(
    change: tuple[str, str], problem: str
) -> None:
    with pytest.raises(SchemeFileError) as caught:
        parse_scheme(SCHEME.replace(*change))
    assert any(str(p).startswith(problem) for p in caught.value.problems), caught.value.problems


def test_computed_indicators_survive_a_yaml_round_trip(scheme) -> None:  # type: ignore[no-untyped-def]
    again = parse_scheme(dump_scheme(scheme))
    assert again == scheme
    assert again.indicator_map["reform.rate"].decimals == 2


# ---------------------------------------------------------------- how totals add up


@pytest.mark.parametrize(
    ("code", "how"),
    [
        ("reform.rate", FORMULA),  # computed: its formula over its inputs' totals
        ("reform.done", SUM),  # read by a formula
        ("reform.task", SUM),  # listed without total:, read by a formula
        ("cases", SUM),  # a deduction counts occurrences (and is cumulative)
        ("poll", NONE),  # a rank on a typed-in score: never added up
    ],
)
def test_which_indicators_add_up_is_stated_by_the_default(scheme, code: str, how: str) -> None:  # type: ignore[no-untyped-def]
    assert how_totalled(scheme, code) == how


def test_a_declared_total_beats_the_default() -> None:
    scheme = parse_scheme(
        SCHEME.replace(
            "{code: reform.task, name: 改革任务数}", "{code: cases, name: 案件, total: none}"
        ).replace("reform.done / reform.task * 100", "reform.done / 2")
    )
    assert how_totalled(scheme, "cases") == NONE


# ---------------------------------------------------------------- totals


def test_the_issuers_total_sums_the_raw_figures_never_the_rates(scheme, values) -> None:  # type: ignore[no-untyped-def]
    found = totals(scheme, values, "201702")
    done = found["done"]
    # February: done 60 + 10 + 15 = 85 over the area (d is not scored on it); task targets
    # 100 + 200 + 50 = 350; completion 85 / 350 = 24.2857…%
    assert (done.how, done.value, done.target) == (SUM, D(85), D(350))
    assert done.units == ("a", "b", "c") and not done.incomplete
    assert done.completion == D("0.2428571428571428571428571428571429")  # 34 digits
    rate = found["rate"]
    # the formula over the summed inputs: 85 / (60 + 100 + 20) × 100 = 47.2222…, never the
    # mean of the rates (100 + 10 + 75) / 3 = 61.67; the target all units share: 70
    assert rate.inputs == {"reform.done": D(85), "reform.task": D(180)}
    assert rate.value == D("47.22222222222222222222222222222222")  # 34 digits
    assert (rate.how, rate.target, rate.incomplete) == (FORMULA, D(70), False)


def test_a_cumulative_total_sums_the_year_to_date(scheme, values) -> None:  # type: ignore[no-untyped-def]
    found = totals(scheme, values, "201702")
    ytd = found["rate_ytd"]
    # done (20+60) + (90+10) + 15 = 195; task (40+60) + (100+100) + 20 = 320; 195/320 × 100
    # = 60.9375. c has no January: incomplete.
    assert ytd.inputs == {"reform.done": D(195), "reform.task": D(320)}
    assert (ytd.value, ytd.incomplete) == (D("60.9375"), True)
    cases = found["cases"]
    # every unit: a 1+0, b 2 (February missing), c 0+1, d 3 (January missing) = 7
    assert (cases.value, cases.target, cases.incomplete) == (D(7), None, True)
    assert cases.given == ("a", "b", "c", "d")


def test_a_total_over_units_missing_a_value_is_the_sum_given_flagged_incomplete(
    scheme,  # type: ignore[no-untyped-def]
    values,
) -> None:
    found = totals(scheme, values, "201701")
    done = found["done"]
    # January: a 20, b 90, c none → 110 of the 2 units given, incomplete
    assert (done.value, done.given, done.incomplete) == (D(110), ("a", "b"), True)
    # the summed target 350 still counts c's task: completion 110 / 350
    assert done.target == D(350)


def test_an_indicator_not_added_up_has_no_total(scheme, values) -> None:  # type: ignore[no-untyped-def]
    poll = totals(scheme, values, "201702")["poll"]
    assert (poll.how, poll.value, poll.target, poll.completion) == (NONE, None, None, None)


def test_a_set_of_units_and_the_results_group_totals(scheme, values) -> None:  # type: ignore[no-untyped-def]
    assert totals(scheme, values, "201702", ["a"])["done"].value == D(60)
    result = compute_scores(scheme, values, "201702")
    issuer, groups = result.totals(), result.group_totals()
    assert issuer["cases"].value == D(7) and issuer.group is None
    # the area group: cases 1 + 2 + 1 = 4; the division: 3
    assert (groups["area"]["cases"].value, groups["div"]["cases"].value) == (D(4), D(3))
    assert groups["div"]["done"].units == ()  # the division is not scored on it
    # sequence A: done 60 + 10 = 70 of targets 100 + 200 = 300
    seq = result.totals("area", "A")["done"]
    assert (seq.value, seq.target) == (D(70), D(300))
    assert result.totals("area", "A") is result.totals("area", "A")  # worked out once


def test_a_lower_is_better_total_measures_target_over_actual() -> None:
    scheme = parse_scheme(
        SCHEME.replace(
            "rule: {kind: attainment, cap: none}", "rule: {kind: attainment}\n    direction: lower"
        )
    )
    values = parse_values(VALUES, scheme).values
    done = totals(scheme, values, "201702")["done"]
    # lower is better: target ÷ actual = 350 / 85, to 34 digits
    assert done.completion == D("4.117647058823529411764705882352941")


# ---------------------------------------------------------------- the command


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    scheme, values = tmp_path / "bulletin.yaml", tmp_path / "values.csv"
    scheme.write_text(SCHEME, encoding="utf-8")
    values.write_text(VALUES, encoding="utf-8")
    return scheme, values


def test_duban_score_ranks_a_computed_item_and_prints_the_totals(files) -> None:  # type: ignore[no-untyped-def]
    plain_table = score_files(*files, "201702", "table", "en")
    table = score_files(*files, "201702", "table", "en", totals=True)
    # the rankings are the same, each followed by its totals
    assert plain_table.split("\n\n")[1] == table.split("\n\n")[1]
    assert "-- Total: 地区 · A组 --" in table and "-- Total: 部门 --" in table
    # the issuer's rows: done 85 of 350 (24.29%); rate 85/180 = 47.22 of 70 (67.46%);
    # year to date 195/320 = 60.94 (c misses January); cases 1+2+1+3 = 7
    rows = table.split("-- Total: all units --\n")[1].split("\n\n")[0].splitlines()
    assert [r.split() for r in rows] == [
        ["Item", "Value", "Target", "Completion", "Units", "given"],
        ["完成数", "85", "350", "24.29%", "3/3"],
        ["完成率", "47.22", "70", "67.46%", "3/3"],
        ["累计完成率", "60.94", "3/3", "incomplete"],
        ["案件", "7", "4/4", "incomplete"],
    ]
    data = json.loads(score_files(*files, "201702", "json", "en", totals=True))
    issuer = {row["item"]: row for row in data["totals"]["issuer"]["items"]}
    assert issuer["rate"]["value"] == "47.22222222222222222222222222222222"
    assert issuer["rate"]["rate_percent"] == "67.46"  # 47.2222… / 70 = 67.46%
    assert "poll" not in issuer
    units = {u["code"]: u for u in data["units"]}
    rate_ytd = {i["code"]: i for i in units["b"]["items"]}["rate_ytd"]
    assert (rate_ytd["value"], rate_ytd["place"]) == ("50", 2)


def test_without_the_flag_the_outputs_have_no_totals(files) -> None:  # type: ignore[no-untyped-def]
    assert "-- Total" not in score_files(*files, "201702", "table", "en")
    assert "totals" not in json.loads(score_files(*files, "201702", "json", "en"))


def test_the_command_takes_totals(files) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command(Command(), *map(str, files), period="201702", lang="en", totals=True, stdout=out)
    assert "-- Total: all units --" in out.getvalue()
    assert out.getvalue() == score_files(*files, "201702", "table", "en", totals=True)
