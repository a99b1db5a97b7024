"""The formula language of computed indicators, as the engine uses it.

The language is ``duban.indicators.formula`` (exact decimals, three-valued
logic; nothing typed is ever handed to ``eval``); the engine writes no other.
The import contract keeps the engine from importing any other app, so the
evaluation package hands the parser in when it is imported
(``duban/evaluation/__init__.py`` calls :func:`use`) — importing anything of
the engine imports that package first, so the parser is always there. The
engine sees a formula only through :class:`Formula`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol


class Formula(Protocol):
    """What the engine needs of a parsed formula (``duban.indicators.formula.Formula``)."""

    @property
    def text(self) -> str: ...

    @property
    def references(self) -> frozenset[str]: ...

    @property
    def is_condition(self) -> bool: ...

    def evaluate(self, values: Mapping[str, Decimal | None]) -> Decimal | bool | None: ...


Parser = Callable[[str], Formula]
# duban.indicators.formula.evaluation_order, typed on its own Formula: taken as given.
Order = Callable[[Mapping[str, Any]], list[str]]

_language: dict[str, object] = {}


def use(parse: Parser, order: Order) -> None:
    """Hand in the formula language: its parser and its dependency order (refusing cycles).
    Both raise ``ValueError`` (``FormulaError``) saying what and where."""
    _language["parse"] = parse
    _language["order"] = order


def parse(text: str) -> Formula:
    found = _language.get("parse")
    if found is None:
        raise RuntimeError("no formula language: import duban.evaluation first")
    return found(text)  # type: ignore[operator,no-any-return]


def evaluation_order(formulas: Mapping[str, Formula]) -> list[str]:
    found = _language.get("order")
    if found is None:
        raise RuntimeError("no formula language: import duban.evaluation first")
    return found(formulas)  # type: ignore[operator,no-any-return]
