"""The item editor: a form per rule kind gives the engine the rule a scheme file would, the
preview writes it in words, targets are typed per unit by name, bad input changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from duban.evaluation import engine, services
from duban.evaluation.engine.files import parse_scheme
from duban.evaluation.models import SchemeItem, Target
from duban.evaluation.rule_forms import FORMS
from duban.evaluation.rule_words import rule_sentence
from duban.testing import PASSWORD
from duban.testing_scan import ALLOWED, ascii_identifiers

#: the header shows the signed-in account (base.html, not these pages)
SEEN = ALLOWED | {"prov_office"}

# kind -> (the form's fields as typed, the rule as a scheme file writes it: hand-worked)
CASES: dict[str, tuple[dict[str, str], str]] = {
    "attainment": ({"cap": "1.2"}, "{kind: attainment, cap: 1.2}"),
    "shortfall": ({"per_point": "0.5", "basis": "completion"}, "{kind: shortfall, per_point: 0.5}"),
    "steps": (
        {"basis": "rate", "bound": "at_least", "bound_1": "90", "points_1": "2",
         "bound_2": "95", "points_2": "3"},
        "{kind: steps, basis: rate, bands: [{at_least: 90, points: 2}, {at_least: 95, points: 3}]}",
    ),
    "threshold": ({"else_points": "1"}, "{kind: threshold, else_points: 1}"),
    "weighted_count": (
        {"class_1": "major", "weight_1": "3", "class_2": "minor", "weight_2": "1"},
        "{kind: weighted_count, weights: {major: 3, minor: 1}}",
    ),
    "deduction": ({"per_occurrence": "2"}, "{kind: deduction, per_occurrence: 2}"),
    "bonus": ({"per_occurrence": "1", "cap": "3"}, "{kind: bonus, per_occurrence: 1, cap: 3}"),
    "veto": ({}, "{kind: veto}"),
    "rank": ({"per_place": "2"}, "{kind: rank, per_place: 2}"),
    "relative_to_best": ({}, "{kind: relative_to_best}"),
    "discretionary": ({"min": "0", "max": "5"}, "{kind: discretionary, min: 0, max: 5}"),
}  # fmt: skip

SCHEME = """
code: f-2017
name: 表单
year: 2017
issuer: P
units: [{code: P, name: 省, level: province}]
groups: [{code: all, name: 全部, members: [P]}]
categories: [{code: work, name: 业务, points: 10}]
items:
  - {code: x, category: work, indicator: x, name: 项, points: %s, target: 100, rule: %s}
"""


def _prefixed(kind: str, fields: dict[str, str]) -> dict[str, str]:
    return {f"{kind}-{k}": v for k, v in fields.items()}


def test_every_kind_has_a_form() -> None:
    from duban.evaluation.engine.rules.registry import RULES

    assert set(FORMS) == set(CASES) == set(RULES)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_form_gives_the_rule_the_scheme_file_gives(kind: str) -> None:
    fields, yaml_rule = CASES[kind]
    form = FORMS[kind](_prefixed(kind, fields), prefix=kind)
    assert form.is_valid(), form.errors
    from_form = engine.rule_from_dict(form.to_rule())
    points = 0 if kind == "veto" else 10
    from_file = parse_scheme(SCHEME % (points, yaml_rule)).items[0].rule
    assert from_form == from_file
    # and back: the stored rule fills the form with what was typed
    stored = engine.rule_to_dict(from_form)
    again = FORMS[kind](None, prefix=kind, initial=FORMS[kind].initial_for(stored))
    for name, value in fields.items():
        shown = again[name].value()
        assert str(shown) == value or Decimal(str(shown)) == Decimal(value), name


def test_the_sentence_in_chinese() -> None:
    with translation.override("zh-hans"):
        assert rule_sentence({"kind": "shortfall", "per_point": "0.5"}, Decimal(10)) == (
            "完成目标得10分，完成率每低1个百分点扣0.5分，扣完为止"
        )
        bands = [{"at_least": "90", "points": "2"}, {"at_least": "95", "points": "3"}]
        assert rule_sentence({"kind": "steps", "basis": "rate", "bands": bands}, 3) == (
            "达到90%（含）得2分；达到95%（含）得3分"
        )
        assert rule_sentence({"kind": "attainment", "cap": "1"}, Decimal("20.0")) == (
            "得分＝20分×完成率，完成率最高按100%计"
        )


@pytest.fixture
def office(scheme: Any, personas: Any) -> Client:
    client = Client()
    client.login(username="prov_office", password=PASSWORD)
    return client


@pytest.fixture
def copy(scheme: Any, personas: Any) -> Any:
    return services.copy_scheme_as_draft(scheme, user=personas.province_office)


def _url(copy: Any, item: str, what: str = "edit") -> str:
    return f"/evaluation/schemes/{copy.code}/items/{item}/{what}/"


def test_the_editor_saves_a_rule_and_targets_by_unit(office: Client, copy: Any) -> None:
    page = office.get(_url(copy, "solved"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "按完成率计分" in html and "破案数" in html
    assert 'name="target-COUNTY-A"' in html
    assert ascii_identifiers(html, SEEN) == []
    answer = office.post(_url(copy, "solved"), {
        "points": "20", "kind": "shortfall", "shortfall-per_point": "0.5",
        "shortfall-basis": "completion", "target": "100", "target-COUNTY-B": "40",
        "target-STATION-A1": "", "rule_text": "每低1个百分点扣0.5分",
    })  # fmt: skip
    assert answer.status_code == 302
    item = SchemeItem.objects.get(scheme=copy, code="solved")
    assert item.rule == {"kind": "shortfall", "per_point": "0.5"}
    assert {t.unit.code: t.value for t in Target.objects.filter(item=item)} == {
        "COUNTY-B": Decimal(40)
    }


def test_bad_input_names_the_field_and_changes_nothing(office: Client, copy: Any) -> None:
    item = SchemeItem.objects.get(scheme=copy, code="solved")
    before = (item.rule, item.points, sorted(Target.objects.filter(item=item).values_list("value")))
    answer = office.post(_url(copy, "solved"), {
        "points": "20", "kind": "shortfall", "shortfall-per_point": "-1",
        "target": "100", "target-COUNTY-B": "40", "rule_text": "",
    })  # fmt: skip
    html = answer.content.decode()
    assert answer.status_code == 400
    assert "每低1个百分点扣（分）" in html
    assert 'value="40"' in html  # what was typed stays
    answer = office.post(_url(copy, "solved"), {
        "points": "20", "kind": "attainment", "attainment-cap": "1",
        "target": "100", "target-COUNTY-B": "abc", "rule_text": "",
    })  # fmt: skip
    assert answer.status_code == 400
    item.refresh_from_db()
    after = (item.rule, item.points, sorted(Target.objects.filter(item=item).values_list("value")))
    assert after == before


def test_the_preview_writes_the_rule_as_typed(office: Client, copy: Any) -> None:
    answer = office.get(
        _url(copy, "poll", "preview"), {"kind": "rank", "rank-per_place": "1.5", "points": "10"}
    )
    assert answer.content.decode() == "第1名得10分，每后1名扣1.5分"
    answer = office.get(_url(copy, "poll", "preview"), {"kind": "rank", "rank-per_place": "x"})
    assert answer.content.decode() == "（请填完上面的各项）"


def test_the_scheme_page_names_rules_and_units(office: Client, scheme: Any) -> None:
    html = office.get(f"/evaluation/schemes/{scheme.code}/").content.decode()
    assert "按完成率计分" in html and "按名次计分" in html
    assert "<code>attainment</code>" not in html
    assert ascii_identifiers(html, SEEN) == []


def test_a_refused_finalise_names_the_field_in_words(office: Client, scheme: Any) -> None:
    import time_machine

    from duban.orgs.policy import SYSTEM

    with time_machine.travel("2017-04-01 09:00 +08:00", tick=False):
        pub = services.publish_results(
            scheme,
            "2017Q1",
            user=SYSTEM,
            objection_deadline=__import__("datetime").date(2017, 4, 10),
        )
        html = office.post(f"/evaluation/publications/{pub.pk}/finalise/").content.decode()
    assert "objection_deadline" not in html
    assert "异议" in html


def test_exports_have_chinese_headers_numbers_and_a_frozen_row(office: Client, scheme: Any) -> None:
    import io

    from openpyxl import load_workbook

    for url in (
        f"/evaluation/schemes/{scheme.code}/scores/?period=2017Q1&format=xlsx",
        f"/evaluation/schemes/{scheme.code}/reconciliation/?period=2017Q1&format=xlsx",
    ):
        sheet = load_workbook(io.BytesIO(office.get(url).content)).active
        header = next(r for r in sheet.iter_rows(values_only=True) if "单位" in r)
        assert "unit_name" not in header and "unit" not in header and "单位代码" in header
        first = header_row = next(
            i for i, r in enumerate(sheet.iter_rows(values_only=True), 1) if r == header
        )
        assert sheet.freeze_panes == f"A{header_row + 1}"
        numeric = [c for c in sheet[first + 1] if isinstance(c.value, int | float)]
        assert numeric and all(c.number_format != "General" for c in numeric)


def test_period_pickers_offer_the_schemes_periods_in_words(office: Client, scheme: Any) -> None:
    html = office.get(f"/evaluation/schemes/{scheme.code}/scores/?period=2017Q1").content.decode()
    assert '<option value="2017Q1" selected>2017年第1季度</option>' in html
    assert '<option value="201710">2017年10月</option>' in html
    assert "evaluation/evaluation.css" in html
    assert ascii_identifiers(html, SEEN) == []


def test_the_what_if_lists_its_rules_in_words_beside_their_forms(office: Client, copy: Any) -> None:
    html = office.get(f"/evaluation/schemes/{copy.code}/compare/?period=2017Q1").content.decode()
    assert f"/evaluation/schemes/{copy.code}/items/poll/edit/" in html
    assert "按名次计分（第1名得10分，每后1名扣2分）" in html
    assert ascii_identifiers(html, SEEN) == []
