"""Defining indicators, data sets and rules: every bad definition is refused by field."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from duban.audit.models import AuditEntry
from duban.indicators import services
from duban.indicators.models import Indicator
from duban.indicators.services import IndicatorError
from duban.orgs.policy import SYSTEM


def make(tree, code: str, **fields: object) -> Indicator:
    defaults: dict[str, object] = {
        "name_zh": code,
        "value_type": "integer",
        "levels": ["county"],
        "kinds": ["territorial"],
    }
    defaults.update(fields)
    return services.create_indicator(user=SYSTEM, issuer=tree.city, code=code, **defaults)


def problems(exc: pytest.ExceptionInfo[IndicatorError]) -> list[tuple[str, str]]:
    return [(p.where, p.message) for p in exc.value.problems]


def test_office_defines_an_indicator_and_it_is_audited(tree, personas) -> None:
    before = AuditEntry.objects.count()
    ind = services.create_indicator(
        user=personas.province_office,
        issuer=tree.city,
        code="case.filed",
        name_zh="立案",
        value_type="integer",
    )
    assert ind.pk and AuditEntry.objects.filter(action="indicators.indicator.created").count() == 1
    assert AuditEntry.objects.count() > before


@pytest.mark.parametrize("persona", ["county_reporter", "city_approver", "leader", "outsider"])
def test_only_the_office_defines(tree, personas, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        services.create_indicator(
            user=getattr(personas, persona),
            issuer=tree.city,
            code="a.b",
            name_zh="x",
            value_type="integer",
        )


def test_formula_must_name_known_indicators_and_give_a_number(tree) -> None:
    make(tree, "case.filed")
    with pytest.raises(IndicatorError) as exc:
        make(tree, "case.rate", formula="case.solved / case.filed")
    assert problems(exc) == [("formula", "指标 'case.solved' 不存在")]
    with pytest.raises(IndicatorError) as exc:
        make(tree, "case.check", formula="case.filed > 3")
    assert "须得出数值，不能是条件" in problems(exc)[0][1]
    with pytest.raises(IndicatorError) as exc:
        make(tree, "case.bad", formula="case.filed / (")
    assert problems(exc)[0][0] == "formula" and "位置 14" in problems(exc)[0][1]


def test_computed_indicators_may_not_form_a_cycle(tree) -> None:
    make(tree, "a.x")
    make(tree, "a.y", formula="a.x + 1")
    make(tree, "a.z", formula="a.y * 2")
    y = Indicator.objects.get(code="a.y")
    with pytest.raises(IndicatorError) as exc:
        services.update_indicator(y, user=SYSTEM, formula="a.z + 1")
    assert "循环引用" in problems(exc)[0][1]


def test_levels_kinds_and_division_are_checked(tree) -> None:
    with pytest.raises(IndicatorError) as exc:
        make(tree, "a.b", levels=["county", "village"], kinds=["secret"], division=tree.county_a)
    found = dict(problems(exc))
    assert "village" in found["levels"] and "secret" in found["kinds"]
    assert "不是警种部门" in found["division"]


def test_code_never_changes(tree) -> None:
    ind = make(tree, "a.b")
    with pytest.raises(IndicatorError, match="指标代码不能修改"):
        services.update_indicator(ind, user=SYSTEM, code="a.c")


def test_an_indicator_sits_on_one_data_set_of_its_period_type(tree) -> None:
    make(tree, "a.b")
    make(tree, "a.q", period_type="quarterly")
    make(tree, "a.r", formula="a.b * 2")
    services.create_data_set(
        user=SYSTEM, owner=tree.city, code="DS1", name_zh="一", indicators=["a.b"]
    )
    ds2 = services.create_data_set(user=SYSTEM, owner=tree.city, code="DS2", name_zh="二")
    with pytest.raises(IndicatorError) as exc:
        services.set_members(ds2, ["a.b", "a.q", "nope", "a.q"], user=SYSTEM)
    messages = [m for _, m in problems(exc)]
    assert any("已在填报表 DS1 中" in m for m in messages)
    assert any("a.q 的统计周期是 quarterly" in m for m in messages)
    assert any("指标 'nope' 不存在" in m for m in messages)
    assert any("列出了两次" in m for m in messages)
    with pytest.raises(IndicatorError) as exc:
        services.set_members(ds2, ["a.r"], user=SYSTEM)
    assert problems(exc) == [("indicators", "a.r 需要 a.b 在同一张填报表中")]


def test_rules_are_conditions_over_the_form(tree) -> None:
    make(tree, "a.b")
    make(tree, "a.c")
    make(tree, "z.z")
    ds = services.create_data_set(
        user=SYSTEM, owner=tree.city, code="DS", name_zh="表", indicators=["a.b", "a.c"]
    )
    rule = services.add_rule(ds, user=SYSTEM, name="c ≤ b", expression="a.c ≤ a.b")
    assert rule.parsed.is_condition
    with pytest.raises(IndicatorError) as exc:
        services.add_rule(ds, user=SYSTEM, name="x", expression="a.b + 1")
    assert "须为条件" in problems(exc)[0][1]
    with pytest.raises(IndicatorError) as exc:
        services.add_rule(ds, user=SYSTEM, name="x", expression="z.z < a.b")
    assert problems(exc) == [("expression", "z.z 不在填报表 DS 中")]
