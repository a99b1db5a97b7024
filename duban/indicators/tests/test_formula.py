"""Tests for the indicator formula language: hand-worked values first, then properties."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from duban.indicators import formula as formula_module
from duban.indicators.formula import (
    FUNCTIONS,
    KEYWORDS,
    MAX_DEPTH,
    MAX_LENGTH,
    And,
    Call,
    Compare,
    Formula,
    FormulaError,
    Name,
    Negate,
    Node,
    Not,
    Number,
    Or,
    Product,
    Sum,
    evaluate_all,
    evaluation_order,
    parse_formula,
)

# These tests check the wording of the English msgids; the Chinese is checked in
# test_formula_translated.py.
pytestmark = pytest.mark.usefixtures("english")

D = Decimal


def evaluate(text: str, **values: int | str | None) -> Decimal | bool | None:
    """Evaluate with keyword inputs; strings become exact Decimals so tests can write '0.5'."""
    inputs = {code: None if value is None else D(value) for code, value in values.items()}
    return parse_formula(text).evaluate(inputs)


# Arithmetic ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2+3*4", D(14)),
        ("(2+3)*4", D(20)),
        ("2*3+4", D(10)),
        ("2-3-4", D(-5)),
        ("2-(3-4)", D(3)),
        ("24/4/2", D(3)),
        ("24/(4/2)", D(12)),
        ("-2*3", D(-6)),
        ("2*-3", D(-6)),
        ("-(2+3)", D(-5)),
        ("--2", D(2)),
        ("1 - -1", D(2)),
        ("10/4", D("2.5")),
        ("0.5 + .25", D("0.75")),
        ("007", D(7)),
        ("45 / 60 * 100", D(75)),
        ("0.1 + 0.2", D("0.3")),
        ("1.10 * 3", D("3.30")),
        ("  2 \t+\n3 ", D(5)),
    ],
)
def test_arithmetic_by_hand(text: str, expected: Decimal) -> None:
    result = evaluate(text)
    assert isinstance(result, Decimal)
    assert result == expected


def test_division_is_exact_when_it_can_be() -> None:
    assert str(evaluate("10/4")) == "2.5"
    assert str(evaluate("0.1 + 0.2")) == "0.3"


def test_one_third_times_three_is_34_nines_not_one() -> None:
    """Decimal rounds 1/3 to 34 significant digits, so multiplying back falls just short of 1.

    Callers that display or compare rates must quantize; a rate is never silently a float.
    """
    third = evaluate("1/3")
    assert third == D("0." + "3" * 34)
    assert evaluate("1/3*3") == D("0." + "9" * 34)
    assert evaluate("1/3*3") != 1
    assert evaluate("3*1/3") == 1


def test_clearance_rate() -> None:
    rate = parse_formula("case_solved / case_filed * 100")
    assert rate.evaluate({"case_solved": D(45), "case_filed": D(60)}) == D(75)
    assert rate.evaluate({"case_solved": D(1), "case_filed": D(3)}) == D(
        "33.33333333333333333333333333333333"
    )


def test_long_flat_sum_stays_shallow() -> None:
    text = "+".join(["a"] * 500)
    formula = parse_formula(text)
    assert isinstance(formula.root, Sum)
    assert formula.evaluate({"a": D(1)}) == 500
    assert len(str(formula)) == MAX_LENGTH - 3
    assert parse_formula(str(formula)) == formula


# Missing values and division by zero ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a",
        "a + 1",
        "1 + a",
        "a - b",
        "a * 0",
        "0 * a",
        "a / 2",
        "2 / a",
        "-a",
        "abs(a)",
        "min(a, 1)",
        "max(1, a, 2)",
        "(a + 1) * 2",
    ],
)
def test_missing_operand_gives_no_value(text: str) -> None:
    assert evaluate(text, b=1) is None
    assert evaluate(text, a=None, b=1) is None


@pytest.mark.parametrize("text", ["1/0", "a/b", "a/(b-b)", "1/0*0", "0/0", "1/0 + 5", "-(1/0)"])
def test_division_by_zero_gives_no_value(text: str) -> None:
    assert evaluate(text, a=5, b=0) is None


def test_rate_with_no_cases_filed_is_no_value_not_zero() -> None:
    rate = parse_formula("case_solved / case_filed * 100")
    assert rate.evaluate({"case_solved": D(0), "case_filed": D(0)}) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("coalesce(a / b, 0)", D(0)),
        ("coalesce(missing, a)", D(5)),
        ("coalesce(missing, other, 7)", D(7)),
        ("coalesce(missing, other)", None),
        ("if(b > 0, a / b, 0)", D(0)),
        ("if(b == 0, 0, a / b)", D(0)),
        ("if(missing > 0, 1, 2)", None),
    ],
)
def test_coalesce_and_if_handle_missing(text: str, expected: Decimal | None) -> None:
    assert evaluate(text, a=5, b=0) == expected


def test_inputs_int_nan_and_float() -> None:
    formula = parse_formula("a + 1")
    assert formula.evaluate({"a": 2}) == 3  # type: ignore[dict-item]
    assert formula.evaluate({"a": D("NaN")}) is None
    assert formula.evaluate({"a": D("Infinity")}) is None
    with pytest.raises(TypeError, match="'a'"):
        formula.evaluate({"a": 0.1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="'a'"):
        formula.evaluate({"a": True})  # type: ignore[dict-item]


def test_absurd_magnitudes_give_no_value_instead_of_raising() -> None:
    assert evaluate("a * a", a="9E+999000") is None
    assert evaluate("coalesce(a * a, 1)", a="9E+999000") == 1


# Comparisons and logic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("case_solved <= case_filed", True),
        ("case_solved < case_filed", True),
        ("case_solved > case_filed", False),
        ("case_solved >= case_filed", False),
        ("case_solved == case_filed", False),
        ("case_solved != case_filed", True),
        ("case_solved ≤ case_filed", True),
        ("case_solved ≥ case_filed", False),
        ("case_solved ≠ case_filed", True),
        ("case_solved ＜＝ case_filed", True),
        ("45 == 45.00", True),
        ("case_solved / case_filed * 100 == 75", True),
        ("-case_filed < case_solved", True),
        ("(case_solved < case_filed) == (1 < 2)", True),
        ("(case_solved > case_filed) != (1 < 2)", True),
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    assert evaluate(text, case_solved=45, case_filed=60) is expected


@pytest.mark.parametrize(
    "text", ["month_value <= ytd_value", "ytd_value >= month_value", "a < 1", "1 != a"]
)
def test_comparison_with_missing_side_is_not_evaluable(text: str) -> None:
    assert evaluate(text, month_value=3) is None


def test_month_within_year_to_date_rule() -> None:
    rule = parse_formula("month_value <= ytd_value")
    assert rule.is_condition
    assert rule.evaluate({"month_value": D(3), "ytd_value": D(10)}) is True
    assert rule.evaluate({"month_value": D(11), "ytd_value": D(10)}) is False
    assert rule.evaluate({"month_value": D(11)}) is None


TRUTH = {True: 1, False: 0, None: None}


def kleene_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def kleene_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


@pytest.mark.parametrize("a", [True, False, None])
@pytest.mark.parametrize("b", [True, False, None])
def test_three_valued_logic(a: bool | None, b: bool | None) -> None:
    values = {"p": TRUTH[a], "q": TRUTH[b]}
    assert evaluate("p == 1 and q == 1", **values) is kleene_and(a, b)
    assert evaluate("p == 1 or q == 1", **values) is kleene_or(a, b)
    assert evaluate("not p == 1", **values) is (None if a is None else not a)
    assert evaluate("p == 1 AND q == 1", **values) is kleene_and(a, b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a < 1 or a > 0 and a > 9", False),
        ("(a < 1 or a > 0) and a > 9", False),
        ("a > 0 or a > 0 and a > 9", True),
        ("not a > 9 and a > 0", True),
        ("not (a > 9 and a > 0)", True),
        ("not not a > 0", True),
        ("a > 0 and b > 0 and c > 0", True),
        ("a > 9 or b > 9 or c > 0", True),
    ],
)
def test_logic_precedence(text: str, expected: bool) -> None:
    assert evaluate(text, a=5, b=5, c=5) is expected


# Functions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min(3, 1, 2)", D(1)),
        ("max(3, 1, 2)", D(3)),
        ("min(7)", D(7)),
        ("abs(-4.5)", D("4.5")),
        ("abs(2 - 5)", D(3)),
        ("if(1 < 2, 10, 20)", D(10)),
        ("if(1 > 2, 10, 20)", D(20)),
        ("if(1 > 2, 1 > 0, 1 < 0)", False),
        ("coalesce(missing > 0, 1 < 2)", True),
        ("coalesce(1, 2)", D(1)),
        ("MAX(1, 2)", D(2)),
        ("min（5，6）", D(5)),
        ("max(min(1, 2), 3) * 2", D(6)),
        ("min(removed / quota, 1) * 100", D(80)),
    ],
)
def test_functions(text: str, expected: Decimal | bool | None) -> None:
    assert evaluate(text, removed=40, quota=50) == expected


# Errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a +", 3, "unexpected end of formula"),
        ("(a", 0, "unclosed '('"),
        ("（a", 0, "unclosed '（'"),
        ("min(a", 3, "unclosed '('"),
        ("a b", 2, "unexpected token 'b'"),
        ("a + b )", 6, "unexpected token ')'"),
        ("(a b)", 3, "unexpected token 'b' (expected ')')"),
        ("min(a b)", 6, "unexpected token 'b' (expected ',' or ')')"),
        ("min(a,)", 6, "unexpected token ')'"),
        ("foo(1)", 0, "unknown function 'foo'"),
        ("min()", 0, "min() takes at least 1 argument (0 given)"),
        ("abs(1, 2)", 0, "abs() takes exactly 1 argument (2 given)"),
        ("if(1 < 2, 3)", 0, "if() takes exactly 3 arguments (2 given)"),
        ("1 < 2 < 3", 6, "comparisons do not chain: '<'"),
        ("a == b != c", 7, "comparisons do not chain: '!='"),
        ('__import__("os")', 0, "unknown function '__import__'"),
        ("os.system(1)", 0, "unknown function 'os.system'"),
        ("a = b", 2, "unexpected character '='"),
        ("a; b", 1, "unexpected character ';'"),
        ('a + "b"', 4, "unexpected character '\"'"),
        ("a.", 1, "unexpected character '.'"),
        ("1e5", 1, "unexpected token 'e5'"),
        ("* 2", 0, "unexpected token '*'"),
        ("and", 0, "unexpected token 'and'"),
        ("a and b", 2, "'and' needs a condition, not a number"),
        ("not a", 0, "'not' needs a condition, not a number"),
        ("(a < b) + 1", 8, "'+' needs a number, not a condition"),
        ("1 + 2 * (a < b)", 6, "'*' needs a number, not a condition"),
        ("a == (b < c)", 2, "'==' compares a number with a condition"),
        ("(a < b) == not c < d", 11, "'not' must be bracketed here"),
        ("(a < b) < 1", 8, "'<' needs a number, not a condition"),
        ("-(a < b)", 0, "unary '-' needs a number"),
        ("if(a, 1, 2)", 0, "first argument of if() needs a condition"),
        ("if(a < b, 1, a < b)", 0, "both branches of if()"),
        ("coalesce(a, b < c)", 0, "coalesce() arguments must be all numbers"),
        ("abs(a < b)", 0, "abs() needs a number"),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.text == text
    assert error.position == position
    assert fragment in str(error)
    assert f"at position {position} in {text!r}" in str(error)


def test_error_message_format() -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula("a + b )")
    assert str(caught.value) == "unexpected token ')' at position 6 in 'a + b )'"
    assert caught.value.reason == "unexpected token ')'"


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_formula_is_an_error(text: str) -> None:
    with pytest.raises(FormulaError, match="empty"):
        parse_formula(text)


def test_length_limit() -> None:
    with pytest.raises(FormulaError, match=f"limit of {MAX_LENGTH} characters") as caught:
        parse_formula("a+" * 1000 + "a")
    assert len(str(caught.value)) < 300
    assert parse_formula("a" * MAX_LENGTH).references == {"a" * MAX_LENGTH}


def test_length_limit_also_holds_for_the_canonical_text() -> None:
    """Otherwise a compactly typed formula could be stored in standard form and fail to load."""
    compact = "+".join(["a"] * 700)
    assert len(compact) < MAX_LENGTH
    with pytest.raises(FormulaError, match="standard form"):
        parse_formula(compact)


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1),
        "-" * (MAX_DEPTH + 1) + "a",
        "not " * (MAX_DEPTH + 1) + "a > 0",
        "min(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1),
    ],
)
def test_depth_limit(text: str) -> None:
    with pytest.raises(FormulaError, match=f"limit of {MAX_DEPTH} levels"):
        parse_formula(text)


def test_just_under_the_depth_limit_parses_evaluates_and_round_trips() -> None:
    depth = MAX_DEPTH - 1
    formula = parse_formula("(" * depth + "a + 1" + ")" * depth)
    assert formula.evaluate({"a": D(1)}) == 2
    for text in [
        "-(" * (depth // 2) + "a + 1" + ")" * (depth // 2),
        "not (a < 1 or " * 24 + "a > 0" + ")" * 24,
        "min(a, 1 + " * 49 + "a" + ")" * 49,
    ]:
        nested = parse_formula(text)
        assert nested.evaluate({"a": D(1)}) is not None
        assert parse_formula(str(nested)) == nested


def test_module_never_calls_python_eval() -> None:
    tree = ast.parse(inspect.getsource(formula_module))
    called = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not called & {"eval", "exec", "compile", "__import__", "getattr", "globals"}


# Structure: references, canonical text, equality ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "references", "is_condition"),
    [
        ("case_solved / case_filed * 100", {"case_solved", "case_filed"}, False),
        ("crackdown.filed + crackdown.filed", {"crackdown.filed"}, False),
        ("1 + 2", set(), False),
        ("if(a > 0, b, coalesce(c, d))", {"a", "b", "c", "d"}, False),
        ("a <= b", {"a", "b"}, True),
        ("not a > 0", {"a"}, True),
        ("a > 0 or b > 0", {"a", "b"}, True),
        ("if(a > 0, b > 0, c > 0)", {"a", "b", "c"}, True),
        ("min + max", {"min", "max"}, False),
    ],
)
def test_references_and_condition(text: str, references: set[str], is_condition: bool) -> None:
    formula = parse_formula(text)
    assert formula.references == references
    assert isinstance(formula.references, frozenset)
    assert formula.is_condition is is_condition


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("case_solved/case_filed*100", "case_solved / case_filed * 100"),
        ("（a＋b）×2", "(a + b) * 2"),
        ("a≤b", "a <= b"),
        ("a ≠ b", "a != b"),
        ("((a))", "a"),
        ("(a*b)+c", "a * b + c"),
        ("a*(b+c)", "a * (b + c)"),
        ("a-(b-c)", "a - (b - c)"),
        ("(a+b)+c", "(a + b) + c"),
        ("-(a)", "-a"),
        ("-(-a)", "--a"),
        ("-(a*b)", "-(a * b)"),
        ("NOT a<b AND c>d Or e==f", "not a < b and c > d or e == f"),
        ("not (a<b and c>d)", "not (a < b and c > d)"),
        ("(a<b)==(c<d)", "(a < b) == (c < d)"),
        ("(a<b)==(not c<d)", "(a < b) == (not c < d)"),
        ("a<b and (not c<d)", "a < b and not c < d"),
        ("Min(a,b)", "min(a, b)"),
        ("IF(a<b,1,2)", "if(a < b, 1, 2)"),
        ("0.50", "0.50"),
        ("1.0", "1.0"),
    ],
)
def test_canonical_rendering(text: str, canonical: str) -> None:
    formula = parse_formula(text)
    assert str(formula) == canonical
    assert parse_formula(canonical) == formula
    assert formula.text == text
    assert repr(formula) == f"Formula({canonical!r})"


def test_equality_ignores_spelling_but_not_structure() -> None:
    assert parse_formula("a+b*2") == parse_formula(" a + (b * 2) ")
    assert hash(parse_formula("a+b*2")) == hash(parse_formula(" a + (b * 2) "))
    assert parse_formula("1.0") == parse_formula("1")
    assert parse_formula("a+b") != parse_formula("b+a")
    assert parse_formula("a+b+c") != parse_formula("a+(b+c)")
    assert parse_formula("A") != parse_formula("a")


def test_ast_shape() -> None:
    root = parse_formula("-a + b * 2 - min(c) >= 0 and not d < 1 or e == 2").root
    a, b, c, d, e = (Name(code) for code in "abcde")
    expected = Or(
        (
            And(
                (
                    Compare(
                        ">=",
                        Sum(
                            Negate(a),
                            (("+", Product(b, (("*", Number(D(2))),))), ("-", Call("min", (c,)))),
                        ),
                        Number(D(0)),
                    ),
                    Not(Compare("<", d, Number(D(1)))),
                )
            ),
            Compare("==", e, Number(D(2))),
        )
    )
    assert root == expected


@pytest.mark.parametrize(
    "build",
    [
        lambda: Number(D(-1)),
        lambda: Number(D("-0")),
        lambda: Number(D("NaN")),
        lambda: Name("and"),
        lambda: Name("a b"),
        lambda: Name("a."),
        lambda: Sum(Name("a"), ()),
        lambda: Sum(Name("a"), (("*", Name("b")),)),
        lambda: Sum(Compare("<", Name("a"), Name("b")), (("+", Name("c")),)),
        lambda: And((Compare("<", Name("a"), Name("b")),)),
        lambda: Or((Name("a"), Name("b"))),
        lambda: Compare("=", Name("a"), Name("b")),
        lambda: Call("eval", (Name("a"),)),
        lambda: Call("abs", ()),
    ],
)
def test_nodes_refuse_ill_formed_trees(build: Callable[[], Node]) -> None:
    with pytest.raises(FormulaError):
        build()


def test_formula_is_frozen() -> None:
    formula = parse_formula("a + 1")
    with pytest.raises(AttributeError):
        formula.text = "b"  # type: ignore[misc]


# Dependencies between computed indicators ----------------------------------------------------


def formulas(**texts: str) -> dict[str, Formula]:
    return {code: parse_formula(text) for code, text in texts.items()}


def assert_respects_dependencies(order: list[str], table: Mapping[str, Formula]) -> None:
    assert sorted(order) == sorted(table)
    for code, formula in table.items():
        for reference in formula.references & table.keys():
            assert order.index(reference) < order.index(code)


def test_order_puts_inputs_first() -> None:
    table = formulas(rate="solved / filed * 100", bonus="rate - 80", solved="a + b")
    order = evaluation_order(table)
    assert order == ["solved", "rate", "bonus"]
    assert_respects_dependencies(order, table)


def test_order_of_a_diamond() -> None:
    table = formulas(top="left + right", left="base * 2", right="base * 3", base="raw + 1")
    order = evaluation_order(table)
    assert order[0] == "base"
    assert order[-1] == "top"
    assert_respects_dependencies(order, table)
    assert evaluate_all(table, {"raw": D(1)}) == {
        "base": D(2),
        "left": D(4),
        "right": D(6),
        "top": D(10),
    }


def test_order_follows_the_mapping_then_sorted_inputs() -> None:
    table = formulas(z="a", y="b", x="z + y")
    assert evaluation_order(table) == ["z", "y", "x"]
    assert evaluation_order(dict(reversed(table.items()))) == ["y", "z", "x"]


def test_order_of_nothing() -> None:
    assert evaluation_order({}) == []
    assert evaluate_all({}, {"a": D(1)}) == {}


@pytest.mark.parametrize(
    ("texts", "cycle"),
    [
        ({"a": "b + 1", "b": "a + 1"}, "a -> b -> a"),
        ({"a": "a + 1"}, "a -> a"),
        ({"a": "b", "b": "c", "c": "a * 2"}, "a -> b -> c -> a"),
        ({"start": "a", "a": "b", "b": "a"}, "a -> b -> a"),
    ],
)
def test_cycle_is_refused_naming_its_codes(texts: dict[str, str], cycle: str) -> None:
    with pytest.raises(FormulaError) as caught:
        evaluation_order(formulas(**texts))
    assert str(caught.value) == f"cycle among computed indicators: {cycle}"
    assert caught.value.codes == tuple(cycle.split(" -> "))
    assert caught.value.position is None


def test_long_dependency_chain_does_not_recurse() -> None:
    table = {f"c{i}": parse_formula(f"c{i + 1} + 1") for i in range(3000)}
    order = evaluation_order(table)
    assert order[0] == "c2999"
    assert evaluate_all(table, {"c3000": D(0)})["c0"] == 3000


def test_evaluate_all_feeds_results_forward() -> None:
    table = formulas(
        clearance="case_solved / case_filed * 100",
        clearance_gap="clearance - target",
        on_target="if(clearance >= target, 1, 0)",
    )
    inputs = {"case_solved": D(45), "case_filed": D(60), "target": D(70)}
    snapshot = dict(inputs)
    assert evaluate_all(table, inputs) == {
        "clearance": D(75),
        "clearance_gap": D(5),
        "on_target": D(1),
    }
    assert inputs == snapshot


def test_evaluate_all_propagates_missing() -> None:
    table = formulas(clearance="case_solved / case_filed * 100", gap="clearance - 70")
    assert evaluate_all(table, {"case_solved": D(45)}) == {"clearance": None, "gap": None}
    assert evaluate_all(table, {"case_solved": D(45), "case_filed": D(0)}) == {
        "clearance": None,
        "gap": None,
    }


def test_evaluate_all_recomputes_instead_of_trusting_a_stored_rate() -> None:
    table = formulas(clearance="case_solved / case_filed * 100", gap="clearance - 70")
    inputs = {"case_solved": D(45), "case_filed": D(60), "clearance": D(99), "gap": None}
    assert evaluate_all(table, inputs) == {"clearance": D(75), "gap": D(5)}


def test_evaluate_all_refuses_a_condition_as_a_value() -> None:
    with pytest.raises(FormulaError, match="'ok' is a condition"):
        evaluate_all(formulas(ok="a < b"), {})


# Properties ----------------------------------------------------------------------------------

codes = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,4}(\.[A-Za-z0-9_]{1,3})?", fullmatch=True).filter(
    lambda code: code.lower() not in KEYWORDS
)
literals = st.decimals(
    min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False
).filter(lambda value: not value.is_signed())
comparison_ops = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])


@cache
def numbers(depth: int) -> st.SearchStrategy[Node]:
    leaves: st.SearchStrategy[Node] = st.one_of(st.builds(Number, literals), st.builds(Name, codes))
    if depth == 0:
        return leaves
    sub, cond = numbers(depth - 1), conditions(depth - 1)
    chain = st.lists(st.tuples(st.sampled_from("+-"), sub), min_size=1, max_size=3)
    factors = st.lists(st.tuples(st.sampled_from("*/"), sub), min_size=1, max_size=3)
    several = st.lists(sub, min_size=1, max_size=3).map(tuple)
    return st.one_of(
        leaves,
        st.builds(Negate, sub),
        st.builds(lambda first, rest: Sum(first, tuple(rest)), sub, chain),
        st.builds(lambda first, rest: Product(first, tuple(rest)), sub, factors),
        st.builds(Call, st.sampled_from(["min", "max", "coalesce"]), several),
        st.builds(lambda arg: Call("abs", (arg,)), sub),
        st.builds(lambda c, a, b: Call("if", (c, a, b)), cond, sub, sub),
    )


@cache
def conditions(depth: int) -> st.SearchStrategy[Node]:
    sub = numbers(max(depth - 1, 0))
    compared = st.builds(Compare, comparison_ops, sub, sub)
    if depth == 0:
        return compared
    cond = conditions(depth - 1)
    several = st.lists(cond, min_size=2, max_size=3).map(tuple)
    return st.one_of(
        compared,
        st.builds(Compare, st.sampled_from(["==", "!="]), cond, cond),
        st.builds(Not, cond),
        st.builds(And, several),
        st.builds(Or, several),
        st.builds(lambda c, a, b: Call("if", (c, a, b)), cond, cond, cond),
        st.builds(lambda args: Call("coalesce", args), several),
    )


trees = st.one_of(numbers(3), conditions(3))


@given(trees)
@settings(max_examples=400)
def test_rendering_round_trips(root: Node) -> None:
    formula = Formula("", root)
    text = str(formula)
    reparsed = parse_formula(text)
    assert reparsed == formula
    assert str(reparsed) == text
    assert reparsed.is_condition is formula.is_condition


@given(trees)
def test_evaluation_of_generated_trees_never_raises(root: Node) -> None:
    formula = Formula("", root)
    values = {code: D(len(code) - 2) for code in formula.references if len(code) % 3}
    result = formula.evaluate(values)
    if formula.is_condition:
        assert result is None or isinstance(result, bool)
    else:
        assert result is None or isinstance(result, Decimal)


ENV = {"a": 3, "b": -7, "c": 0, "crackdown.filed": 12}


@st.composite
def integer_expressions(draw: st.DrawFn, depth: int = 3, branches: bool = True) -> tuple[str, int]:
    """Build expression text and its value side by side with plain Python ints."""
    if depth == 0 or draw(st.booleans()):
        if draw(st.booleans()):
            code = draw(st.sampled_from(sorted(ENV)))
            return code, ENV[code]
        value = draw(st.integers(min_value=0, max_value=99))
        return str(value), value
    kinds = ["+", "-", "*", "neg", "min", "max", "abs", "paren"] + (["if"] if branches else [])
    kind = draw(st.sampled_from(kinds))
    left, a = draw(integer_expressions(depth - 1, branches))
    right, b = draw(integer_expressions(depth - 1, branches))
    space = draw(st.sampled_from(["", " ", "  "]))
    if kind in ("+", "-", "*"):
        ops = {"+": a + b, "-": a - b, "*": a * b}
        return f"({left}){space}{kind}{space}({right})", ops[kind]
    if kind == "neg":
        return f"-({left})", -a
    if kind in ("min", "max"):
        function = min if kind == "min" else max
        return f"{kind.upper()}({left},{space}{right})", function(a, b)
    if kind == "abs":
        return f"abs({left})", abs(a)
    if kind == "if":
        op, test = draw(st.sampled_from([("<", a < b), (">=", a >= b), ("≠", a != b)]))
        return f"if(({left}) {op} ({right}), {left}, {right})", a if test else b
    return f"（{left}）", a


@given(integer_expressions())
@settings(max_examples=400)
def test_integer_evaluation_matches_python(case: tuple[str, int]) -> None:
    text, expected = case
    assume(abs(expected) < 10**30)
    formula = parse_formula(text)
    assert formula.evaluate({code: D(value) for code, value in ENV.items()}) == expected
    assert parse_formula(str(formula)).evaluate({k: D(v) for k, v in ENV.items()}) == expected


@given(integer_expressions(branches=False), st.data())
def test_missing_input_poisons_pure_arithmetic(case: tuple[str, int], data: st.DataObject) -> None:
    formula = parse_formula(case[0])
    assume(formula.references)
    missing = data.draw(st.sampled_from(sorted(formula.references)))
    values = {code: D(value) for code, value in ENV.items() if code != missing}
    assert formula.evaluate(values) is None


formula_alphabet = st.sampled_from(
    [*"ab1.0 ()+-*/<>=!,_", "and ", "or ", "not ", "min(", "if(", "≤", "（", "）", "\x00"]
)


@given(st.one_of(st.text(max_size=60), st.lists(formula_alphabet, max_size=40).map("".join)))
@settings(max_examples=500)
def test_arbitrary_text_parses_or_raises_formula_error(text: str) -> None:
    try:
        formula = parse_formula(text)
    except FormulaError as error:
        assert error.text == text
        assert error.position is None or 0 <= error.position <= len(text)
        return
    assert parse_formula(str(formula)) == formula


def test_functions_table_is_what_the_docs_promise() -> None:
    assert set(FUNCTIONS) == {"min", "max", "abs", "if", "coalesce"}
