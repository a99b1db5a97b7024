"""The rule kinds a scheme may name (kind -> class), and reading a rule from its mapping.

A rule class joins with ``@register``: its ``kind`` becomes known to scheme
files, the database and the builder, and its explanation texts join
``explain.TEMPLATES``. A kind nobody registered is an error naming the item and
the kind; it is never scored as some other rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from django.utils.translation import gettext as _

from duban.errors import Problem
from duban.evaluation.engine.explain import TEMPLATES
from duban.evaluation.engine.params import Reader
from duban.evaluation.engine.rules.base import Extra, Rule, Trace

if TYPE_CHECKING:
    from duban.evaluation.engine.model import Item

RULES: dict[str, type[Rule]] = {}

R = TypeVar("R", bound=type[Rule])


def register(cls: R) -> R:
    """Make a rule class's ``kind`` known (a class decorator); a kind or a step text
    registered twice with different meanings is a programming error, raised at import."""
    kind = cls.kind
    if not kind:
        raise TypeError(f"{cls.__name__} has no kind")
    if RULES.get(kind, cls) is not cls:
        raise TypeError(f"rule kind {kind!r} is already registered by {RULES[kind].__name__}")
    for code, text in cls.texts.items():
        if TEMPLATES.get(code, text) != text:
            raise TypeError(f"{cls.__name__}: step {code!r} already has another text")
    TEMPLATES.update(cls.texts)
    RULES[kind] = cls
    return cls


class RuleError(ValueError):
    """Rule parameters that cannot be used; ``problems`` names each one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class UnknownRule(Rule):
    """What an item holds while its unknown kind is reported: it refuses to score.

    Reading a scheme goes on after a bad kind so that every problem of the file is
    listed at once; the problem recorded makes the whole scheme refused, and if
    anything tried to score this item anyway it would fail loudly, not fall back.
    """

    name: str = ""

    def params(self) -> dict[str, object]:
        return {}

    def evaluate(
        self, item: Item, value: Decimal, target: Decimal | None, extra: Extra, trace: Trace
    ) -> Decimal:
        raise TypeError(f"item {item.code}: unknown rule kind {self.name!r}")


def unknown_kind_message(kind: str, item: str = "") -> str:
    """The refusal of a kind nobody registered, naming the item (when known) and the kind."""
    kinds = ", ".join(RULES)
    if item:
        return _("item %(item)s: unknown rule kind “%(kind)s” (the kinds are: %(kinds)s)") % {
            "item": item,
            "kind": kind,
            "kinds": kinds,
        }
    return _("unknown rule kind “%(kind)s” (the kinds are: %(kinds)s)") % {
        "kind": kind,
        "kinds": kinds,
    }


def read_rule(r: Reader, item: str = "") -> Rule:
    """A rule from its mapping (``kind`` plus parameters); problems are recorded on ``r``.

    ``item`` (the item's code) names the item in the refusal of an unknown kind.
    """
    kind = r.string("kind")
    cls = RULES.get(kind)
    if cls is None:
        if kind:
            r.problem("kind", unknown_kind_message(kind, item))
        return UnknownRule(kind)
    r.item = item
    rule = cls.parse(r)
    r.done()
    return rule


def rule_from_dict(data: Mapping[str, object], where: str = "rule", item: str = "") -> Rule:
    """Build a rule from stored parameters (as the Django app keeps them), or raise RuleError."""
    problems: list[Problem] = []
    rule = read_rule(Reader(data, where, problems), item)
    if problems:
        raise RuleError(problems)
    return rule


def rule_to_dict(rule: Rule) -> dict[str, object]:
    """``kind`` and the parameters, the inverse of ``rule_from_dict``."""
    return {"kind": rule.kind, **rule.params()}
