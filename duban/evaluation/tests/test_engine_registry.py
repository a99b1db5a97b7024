"""The registry of rule kinds: declared capabilities, unknown kinds, and a kind added by
copying one class and registering it — with nothing else changed."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import pytest
import yaml

from duban.evaluation.engine import (
    RULES,
    Item,
    Rule,
    RuleError,
    compute_scores,
    dump_scheme,
    parse_scheme,
    rule_from_dict,
    rule_to_dict,
)
from duban.evaluation.engine.explain import TEMPLATES, Step
from duban.evaluation.engine.params import Reader
from duban.evaluation.engine.rules import Extra, Trace, UnknownRule, register
from duban.evaluation.engine.rules.base import done
from duban.evaluation.tests import D, make_item, make_scheme, values_for
from duban.evaluation.tests.test_engine_files import BASE


@pytest.mark.parametrize("kind", sorted(RULES))
def test_capabilities_are_declared_not_found_out(kind: str) -> None:
    """The engine reads the declarations, so they must tell the truth about the class."""
    cls = RULES[kind]
    assert cls.kind == kind
    overrides = {name for klass in cls.__mro__[:-2] for name in vars(klass)}  # below Rule
    assert cls.checks_values == ("reject" in overrides), "checks_values: reject of its own"
    assert cls.per_class == ("classes" in overrides), "per_class: classes of its own"
    for code in cls.texts:
        assert code in TEMPLATES


def test_an_unknown_kind_is_an_error_naming_item_and_kind() -> None:
    with pytest.raises(RuleError, match="指标 i7：未知的计分规则类型“magic”") as raised:
        rule_from_dict({"kind": "magic"}, "items[7].rule", item="i7")
    assert raised.value.problems[0].where == "items[7].rule.kind"
    with pytest.raises(RuleError, match="未知的计分规则类型“magic”"):
        rule_from_dict({"kind": "magic"})


def test_an_unknown_kind_never_scores_as_another_rule() -> None:
    """What an item holds while its kind is reported refuses to score at all."""
    item = make_item("i", UnknownRule("magic"))
    with pytest.raises(TypeError, match="unknown rule kind 'magic'"):
        UnknownRule("magic").evaluate(item, D(1), None, Extra(), None)


def test_a_kind_cannot_be_registered_twice() -> None:
    @dataclass(frozen=True)
    class Again(Rule):
        kind: ClassVar[str] = "attainment"

    with pytest.raises(TypeError, match="already registered"):
        register(Again)
    assert RULES["attainment"] is not Again


# ------------------------------------------------- adding a kind: one class, registered


@dataclass(frozen=True)
class PerCase(Rule):
    """每破一案计p分: p points per case solved, at most the item's points (a toy kind)."""

    kind: ClassVar[str] = "per_case_test"
    occurrences: ClassVar[bool] = True
    texts: ClassVar[dict[str, tuple[str, str]]] = {
        "per_case_test": ("每案 {per} 分", "{per} per case"),
    }
    per: Decimal = Decimal(0)

    @classmethod
    def parse(cls, r: Reader) -> Rule:
        return cls(per=r.number("per", minimum=Decimal(0)))

    def params(self) -> dict[str, object]:
        return {"per": self.per}

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        if trace is not None:
            trace.append(Step("occurrences", {"count": value}))
            trace.append(Step("per_case_test", {"per": self.per}))
        return done(min(value * self.per, item.points), trace)


@pytest.fixture
def per_case() -> Iterator[type[PerCase]]:
    register(PerCase)
    yield PerCase
    del RULES[PerCase.kind]
    del TEMPLATES["per_case_test"]


def test_a_registered_kind_works_everywhere_without_other_changes(
    per_case: type[PerCase],
) -> None:
    """Scheme files, stored parameters, scoring (both paths), explanations and refusals."""
    data = copy.deepcopy(BASE)
    data["items"][0]["rule"] = {"kind": "per_case_test", "per": 2}
    scheme = parse_scheme(yaml.safe_dump(data, allow_unicode=True))
    item = scheme.items[0]
    assert item.rule == per_case(D(2))
    assert rule_from_dict(rule_to_dict(item.rule)) == item.rule
    assert parse_scheme(dump_scheme(scheme)).items[0].rule == item.rule

    own = make_scheme([make_item("i", per_case(D(3)), points=10)])
    values = values_for("i", "2017", {"a": 2, "b": 5, "c": -1, "d": None})
    for plain in (False, True):
        result = compute_scores(own, values, "2017", plain=plain)
        scores = {u: result.units[u].items["i"].score for u in "abcd"}
        assert scores == {"a": 6, "b": 10, "c": 0, "d": 0}
        assert result.units["c"].items["i"].flags == ("invalid",)  # a negative count
        assert result.units["a"].items["i"].explanation.text() == "发生 2 次，每案 3 分，得 6.00 分"
