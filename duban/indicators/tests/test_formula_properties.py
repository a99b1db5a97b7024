"""Properties of the formula parser on random token sequences (test_formula's properties draw
valid trees and random characters; these draw whole tokens, so most examples get past the
tokenizer and into the grammar): any sequence parses, or is refused with `FormulaError` in the
user's language pointing inside the text; a formula read renders to text that reads back as
itself, and evaluating it over any figures gives a number, a truth value or no value, never an
exception. Bounded, derandomised examples."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from duban.indicators.formula import FormulaError, parse_formula

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)
CHINESE = re.compile("[\u4e00-\u9fff]")

CODES = ["a", "b", "case.filed", "case_solved", "x1", "A", "_", "a.b.c", "a.", "1a"]
NUMBERS = ["0", "1", "2.5", ".5", "1e3", "9" * 40, "0.000000001", "１２", "1,000", "00"]
OPERATORS = [
    "+",
    "-",
    "*",
    "/",
    "×",
    "÷",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "≤",
    "≥",
    "≠",
    "＜",
    "=",
]
WORDS = [
    "and",
    "or",
    "not",
    "AND",
    "Not",
    "min",
    "max",
    "abs",
    "if",
    "coalesce",
    "MIN",
    "sum",
    "eval",
]
PUNCTUATION = ["(", ")", ",", "（", "）", "，", "[", "'", '"', "%", "\x00", "\u3000"]
tokens = st.sampled_from(CODES + NUMBERS + OPERATORS + WORDS + PUNCTUATION)
spaces = st.sampled_from(["", " ", "  ", "\t"])
formulas = st.lists(st.tuples(tokens, spaces), max_size=16).map(
    lambda ts: "".join(t + s for t, s in ts)
)
figures = st.dictionaries(
    st.sampled_from(["a", "b", "case.filed", "case_solved", "x1", "A", "_", "a.b.c"]),
    st.one_of(
        st.none(),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.sampled_from([Decimal(0), Decimal("1e999999"), Decimal("-1e-999999")]),
    ),
)


@given(formulas, figures)
@PROPERTY
@example("min(a, b) / (a - a)", {"a": Decimal(1), "b": Decimal(2)})
@example("1e999999 * 1e999999", {})
@example("if(a > b, a, b", {})
def test_any_token_sequence_parses_and_evaluates_or_is_refused(
    text: str, values: dict[str, Decimal | None]
) -> None:
    try:
        formula = parse_formula(text)
    except FormulaError as exc:
        assert exc.text == text
        assert exc.position is None or 0 <= exc.position <= len(text)
        assert CHINESE.search(str(exc)), str(exc)
        return
    assert parse_formula(str(formula)) == formula
    result = formula.evaluate(values)
    if formula.is_condition:
        assert result is None or isinstance(result, bool)
    else:
        assert result is None or (isinstance(result, Decimal) and result.is_finite())
