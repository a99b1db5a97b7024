"""The formula language's refusals read in the user's language (the indicator form shows them)."""

from __future__ import annotations

import pytest
from django.utils import translation

from duban.indicators.formula import FormulaError, evaluation_order, parse_formula


def _refusal(text: str) -> FormulaError:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    return caught.value


def test_refusals_read_in_the_users_language() -> None:
    error = _refusal("a = b")
    assert str(error) == "无法识别的字符 '='（比较是否相等请用 '=='）（位置 2，公式 'a = b'）"
    assert (error.text, error.position) == ("a = b", 2)
    with translation.override("en"):
        error = _refusal("a = b")
    assert str(error) == "unexpected character '=' (use '==' to compare) at position 2 in 'a = b'"
    assert error.reason == "unexpected character '=' (use '==' to compare)"


def test_argument_counts_take_the_plural_of_the_language() -> None:
    assert _refusal("abs()").reason == "abs() 需要恰好 1 个参数（实际给了 0 个）"
    assert _refusal("if(a > 1, 2)").reason == "if() 需要恰好 3 个参数（实际给了 2 个）"
    with translation.override("en"):
        assert _refusal("abs()").reason == "abs() takes exactly 1 argument (0 given)"
        assert _refusal("if(a > 1, 2)").reason == "if() takes exactly 3 arguments (2 given)"


def test_type_errors_name_the_kinds_in_the_language() -> None:
    assert _refusal("a + (b > 1)").reason == "'+' 需要数值，而不是条件"
    with translation.override("en"):
        assert _refusal("a + (b > 1)").reason == "'+' needs a number, not a condition"


def test_a_cycle_keeps_its_codes_whatever_the_language() -> None:
    formulas = {"a": parse_formula("b + 1"), "b": parse_formula("a * 2")}
    with pytest.raises(FormulaError) as caught:
        evaluation_order(formulas)
    assert str(caught.value) == "计算指标之间存在循环引用：a -> b -> a"
    assert caught.value.codes == ("a", "b", "a")
