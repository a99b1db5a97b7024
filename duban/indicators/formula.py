"""A safe formula and validation-rule language for indicators.

Computed indicators (clearance rate = ``case_solved / case_filed * 100``) and
data-set validation rules (``case_solved <= case_filed``) are typed in by
evaluation-office staff. They are read by a small grammar of our own into an
AST of frozen dataclasses and evaluated over exact decimals with three-valued
logic, so a missing figure yields "no value" instead of a wrong number, and
nothing a user types is ever handed to Python's ``eval``. Plain Python, no
Django, so importers, scheme files and tests can use it anywhere.

Grammar, loosest binding first::

    or  ->  and  ->  not  ->  comparison (no chaining)  ->  + -  ->  * /  ->  unary -

Operands are decimal literals, indicator codes (``crackdown.filed``), bracketed
expressions and the functions ``min``, ``max``, ``abs``, ``if`` and ``coalesce``.
Keywords and function names are case-insensitive; codes are not. Full-width
characters from Chinese keyboards (``（）``, ``，``, ``＜``) and ``≤ ≥ ≠ × ÷`` are
read as their ASCII operators.
"""

from __future__ import annotations

import operator
import re
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import Enum
from typing import Any, ClassVar

from duban.text import gettext, ngettext

__all__ = [
    "CODE_PATTERN",
    "FUNCTIONS",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "PRECISION",
    "And",
    "Call",
    "Compare",
    "Formula",
    "FormulaError",
    "Kind",
    "Name",
    "Negate",
    "Node",
    "Not",
    "Number",
    "Or",
    "Product",
    "Sum",
    "Value",
    "evaluate_all",
    "evaluation_order",
    "parse_formula",
]

MAX_LENGTH = 2000
MAX_DEPTH = 100
PRECISION = 34

CODE_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
KEYWORDS = frozenset({"and", "or", "not"})
FUNCTIONS: Mapping[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "coalesce": (1, None),
    "if": (3, 3),
    "max": (1, None),
    "min": (1, None),
}

Value = Decimal | bool | None

_CONTEXT = Context(
    prec=PRECISION,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

_OR, _AND, _NOT, _CMP, _ADD, _MUL, _NEG, _ATOM = range(1, 9)

_COMPARISONS: Mapping[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_ORDERINGS = frozenset({"<", "<=", ">", ">="})
_INFIX: Mapping[str, int] = {
    "or": _OR,
    "and": _AND,
    **dict.fromkeys(_COMPARISONS, _CMP),
    "+": _ADD,
    "-": _ADD,
    "*": _MUL,
    "/": _MUL,
}


class FormulaError(ValueError):
    """A formula that cannot be parsed, typed or ordered; says what and where for the form."""

    def __init__(
        self,
        reason: str,
        *,
        text: str = "",
        position: int | None = None,
        codes: tuple[str, ...] = (),
    ) -> None:
        self.reason = reason
        self.text = text
        self.position = position
        self.codes = codes
        values = {"reason": reason, "position": position}
        if text:
            values["formula"] = _excerpt(text, position)
        if position is not None and text:
            message = gettext("%(reason)s at position %(position)s in %(formula)s") % values
        elif position is not None:
            message = gettext("%(reason)s at position %(position)s") % values
        elif text:
            message = gettext("%(reason)s in %(formula)s") % values
        else:
            message = reason
        super().__init__(message)


def _excerpt(text: str, position: int | None) -> str:
    """Quote the text, cut around the position so a 2,000-character formula stays readable."""
    if len(text) <= 80:
        return repr(text)
    centre = position if position is not None else 0
    start = max(0, centre - 35)
    end = min(len(text), start + 70)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return repr(prefix + text[start:end] + suffix)


class Kind(Enum):
    """What a node yields; checked when the AST is built so typos fail at save time."""

    NUMBER = "a number"
    CONDITION = "a condition"


def _kind_words(kind: Kind) -> str:
    """What a node yields, in the reader's language ("a number", "a condition")."""
    return gettext("a number") if kind is Kind.NUMBER else gettext("a condition")


def _require(node: Node, kind: Kind, what: str) -> None:
    if node.kind is not kind:
        raise FormulaError(
            gettext("%(what)s needs %(expected)s, not %(actual)s")
            % {"what": what, "expected": _kind_words(kind), "actual": _kind_words(node.kind)}
        )


def _render(node: Node, least: int) -> str:
    """Bracket a child only where the parser would otherwise build a different tree."""
    return f"({node})" if node.precedence < least else str(node)


@dataclass(frozen=True)
class Number:
    """A non-negative decimal literal; a leading minus is a Negate, so rendering is unambiguous."""

    value: Decimal
    kind: ClassVar[Kind] = Kind.NUMBER
    precedence: ClassVar[int] = _ATOM

    def __post_init__(self) -> None:
        value = self.value
        if not isinstance(value, Decimal) or not value.is_finite() or value.is_signed():
            raise FormulaError(
                gettext("a literal must be a finite non-negative Decimal, not %(value)s")
                % {"value": repr(value)}
            )

    @property
    def children(self) -> tuple[Node, ...]:
        return ()

    def __str__(self) -> str:
        return format(self.value, "f")


@dataclass(frozen=True)
class Name:
    """A reference to another indicator's value by its code."""

    code: str
    kind: ClassVar[Kind] = Kind.NUMBER
    precedence: ClassVar[int] = _ATOM

    def __post_init__(self) -> None:
        if not _CODE.fullmatch(self.code) or self.code.lower() in KEYWORDS:
            raise FormulaError(
                gettext("%(code)s is not a valid indicator code") % {"code": repr(self.code)}
            )

    @property
    def children(self) -> tuple[Node, ...]:
        return ()

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class Negate:
    """Unary minus."""

    operand: Node
    kind: ClassVar[Kind] = Kind.NUMBER
    precedence: ClassVar[int] = _NEG

    def __post_init__(self) -> None:
        _require(self.operand, Kind.NUMBER, gettext("unary '-'"))

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.operand,)

    def __str__(self) -> str:
        return "-" + _render(self.operand, _NEG)


@dataclass(frozen=True)
class Not:
    """Logical negation; unknown stays unknown."""

    operand: Node
    kind: ClassVar[Kind] = Kind.CONDITION
    precedence: ClassVar[int] = _NOT

    def __post_init__(self) -> None:
        _require(self.operand, Kind.CONDITION, "'not'")

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.operand,)

    def __str__(self) -> str:
        return "not " + _render(self.operand, _NOT)


def _check_chain(first: Node, rest: tuple[tuple[str, Node], ...], ops: str) -> None:
    if not rest:
        raise FormulaError(gettext("an operator chain needs at least two operands"))
    for op, _ in rest:
        if op not in ops:
            raise FormulaError(
                gettext("%(op)s does not belong in a chain of %(ops)s")
                % {"op": repr(op), "ops": " ".join(ops)}
            )
    _require(first, Kind.NUMBER, repr(rest[0][0]))
    for op, operand in rest:
        _require(operand, Kind.NUMBER, repr(op))


def _render_chain(first: Node, rest: tuple[tuple[str, Node], ...], least: int) -> str:
    parts = [_render(first, least)]
    for op, operand in rest:
        parts += [op, _render(operand, least)]
    return " ".join(parts)


@dataclass(frozen=True)
class Sum:
    """``a + b - c``, kept flat so a long sum is one shallow node rather than a deep tree."""

    first: Node
    rest: tuple[tuple[str, Node], ...]
    kind: ClassVar[Kind] = Kind.NUMBER
    precedence: ClassVar[int] = _ADD

    def __post_init__(self) -> None:
        _check_chain(self.first, self.rest, "+-")

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.first, *(operand for _, operand in self.rest))

    def __str__(self) -> str:
        return _render_chain(self.first, self.rest, _ADD + 1)


@dataclass(frozen=True)
class Product:
    """``a * b / c``, flat like Sum; any division by zero makes the whole product missing."""

    first: Node
    rest: tuple[tuple[str, Node], ...]
    kind: ClassVar[Kind] = Kind.NUMBER
    precedence: ClassVar[int] = _MUL

    def __post_init__(self) -> None:
        _check_chain(self.first, self.rest, "*/")

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.first, *(operand for _, operand in self.rest))

    def __str__(self) -> str:
        return _render_chain(self.first, self.rest, _MUL + 1)


@dataclass(frozen=True)
class Compare:
    """One comparison; orderings take numbers, ``==``/``!=`` take two of a kind."""

    op: str
    left: Node
    right: Node
    kind: ClassVar[Kind] = Kind.CONDITION
    precedence: ClassVar[int] = _CMP

    def __post_init__(self) -> None:
        if self.op not in _COMPARISONS:
            raise FormulaError(gettext("%(op)s is not a comparison") % {"op": repr(self.op)})
        if self.op in _ORDERINGS:
            _require(self.left, Kind.NUMBER, repr(self.op))
            _require(self.right, Kind.NUMBER, repr(self.op))
        elif self.left.kind is not self.right.kind:
            raise FormulaError(
                gettext("%(op)s compares %(left)s with %(right)s")
                % {
                    "op": repr(self.op),
                    "left": _kind_words(self.left.kind),
                    "right": _kind_words(self.right.kind),
                }
            )

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    def __str__(self) -> str:
        return f"{_render(self.left, _ADD)} {self.op} {_render(self.right, _ADD)}"


def _check_logic(operands: tuple[Node, ...], word: str) -> None:
    if len(operands) < 2:
        raise FormulaError(gettext("%(word)s needs at least two operands") % {"word": f"'{word}'"})
    for operand in operands:
        _require(operand, Kind.CONDITION, f"'{word}'")


@dataclass(frozen=True)
class And:
    """Kleene conjunction: any false operand makes it false even if others are unknown."""

    operands: tuple[Node, ...]
    kind: ClassVar[Kind] = Kind.CONDITION
    precedence: ClassVar[int] = _AND

    def __post_init__(self) -> None:
        _check_logic(self.operands, "and")

    @property
    def children(self) -> tuple[Node, ...]:
        return self.operands

    def __str__(self) -> str:
        return " and ".join(_render(operand, _AND + 1) for operand in self.operands)


@dataclass(frozen=True)
class Or:
    """Kleene disjunction: any true operand makes it true even if others are unknown."""

    operands: tuple[Node, ...]
    kind: ClassVar[Kind] = Kind.CONDITION
    precedence: ClassVar[int] = _OR

    def __post_init__(self) -> None:
        _check_logic(self.operands, "or")

    @property
    def children(self) -> tuple[Node, ...]:
        return self.operands

    def __str__(self) -> str:
        return " or ".join(_render(operand, _OR + 1) for operand in self.operands)


@dataclass(frozen=True)
class Call:
    """A call of one of the built-in FUNCTIONS; there is no way to reach anything else."""

    function: str
    args: tuple[Node, ...]
    precedence: ClassVar[int] = _ATOM

    def __post_init__(self) -> None:
        name, args = self.function, self.args
        if name not in FUNCTIONS:
            raise FormulaError(_unknown_function(repr(name)))
        least, most = FUNCTIONS[name]
        counts = {"name": name, "count": least, "given": len(args)}
        if most is not None and least == most and len(args) != least:
            raise FormulaError(
                ngettext(
                    "%(name)s() takes exactly %(count)d argument (%(given)d given)",
                    "%(name)s() takes exactly %(count)d arguments (%(given)d given)",
                    least,
                )
                % counts
            )
        if len(args) < least:
            raise FormulaError(
                ngettext(
                    "%(name)s() takes at least %(count)d argument (%(given)d given)",
                    "%(name)s() takes at least %(count)d arguments (%(given)d given)",
                    least,
                )
                % counts
            )
        if name in ("abs", "min", "max"):
            for arg in args:
                _require(arg, Kind.NUMBER, f"{name}()")
        elif name == "if":
            _require(args[0], Kind.CONDITION, gettext("the first argument of if()"))
            if args[1].kind is not args[2].kind:
                raise FormulaError(
                    gettext("both branches of if() must be numbers or both conditions")
                )
        elif any(arg.kind is not args[0].kind for arg in args):
            raise FormulaError(
                gettext("%(name)s() arguments must be all numbers or all conditions")
                % {"name": name}
            )

    @property
    def kind(self) -> Kind:
        if self.function == "if":
            return self.args[1].kind
        if self.function == "coalesce":
            return self.args[0].kind
        return Kind.NUMBER

    @property
    def children(self) -> tuple[Node, ...]:
        return self.args

    def __str__(self) -> str:
        return f"{self.function}({', '.join(str(arg) for arg in self.args)})"


def _unknown_function(name: str) -> str:
    """The refusal of a function name that is not one of FUNCTIONS, listing those that are."""
    return gettext("unknown function %(name)s (known: %(known)s)") % {
        "name": name,
        "known": ", ".join(sorted(FUNCTIONS)),
    }


Node = Number | Name | Negate | Not | Sum | Product | Compare | And | Or | Call

_CODE = re.compile(CODE_PATTERN)


@dataclass(frozen=True, repr=False)
class Formula:
    """A parsed formula; equal to another when their trees are equal, however each was typed."""

    text: str = field(compare=False)
    root: Node
    references: frozenset[str] = field(init=False, compare=False)
    is_condition: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "references", frozenset(_codes(self.root)))
        object.__setattr__(self, "is_condition", self.root.kind is Kind.CONDITION)

    def evaluate(self, values: Mapping[str, Decimal | None]) -> Value:
        """Compute over exact decimals; a missing input or a zero divisor gives None."""
        with localcontext(_CONTEXT):
            return _evaluate(self.root, values)

    def __str__(self) -> str:
        return str(self.root)

    def __repr__(self) -> str:
        return f"Formula({str(self)!r})"


def _codes(root: Node) -> Iterator[str]:
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            yield node.code
        stack.extend(node.children)


def parse_formula(text: str) -> Formula:
    """Parse and type-check a formula or rule; every problem is a FormulaError with a position.

    Both the text as typed and its canonical rendering must fit in MAX_LENGTH,
    so that ``str(formula)`` can always be stored and parsed back.
    """
    if len(text) > MAX_LENGTH:
        raise FormulaError(
            gettext("formula is longer than the limit of %(limit)s characters (%(length)s)")
            % {"limit": MAX_LENGTH, "length": len(text)},
            text=text,
        )
    if not text.strip():
        raise FormulaError(gettext("formula is empty"), text=text)
    formula = Formula(text, _Parser(text).parse())
    canonical = len(str(formula))
    if canonical > MAX_LENGTH:
        raise FormulaError(
            gettext(
                "formula is longer than the limit of %(limit)s characters when written out "
                "in standard form (%(length)s)"
            )
            % {"limit": MAX_LENGTH, "length": canonical},
            text=text,
        )
    return formula


# Evaluation ---------------------------------------------------------------------------------


def _evaluate(node: Node, values: Mapping[str, Decimal | None]) -> Value:
    match node:
        case Number(value=value):
            return value
        case Name(code=code):
            return _lookup(values, code)
        case Negate(operand=operand):
            number = _number(_evaluate(operand, values))
            return None if number is None else _arithmetic(operator.neg, number)
        case Not(operand=operand):
            condition = _condition(_evaluate(operand, values))
            return None if condition is None else not condition
        case Sum(first=first, rest=rest) | Product(first=first, rest=rest):
            total = _number(_evaluate(first, values))
            for op, operand in rest:
                if total is None:
                    return None
                total = _apply(op, total, _number(_evaluate(operand, values)))
            return total
        case Compare(op=op, left=left, right=right):
            a = _evaluate(left, values)
            b = _evaluate(right, values) if a is not None else None
            return None if a is None or b is None else _COMPARISONS[op](a, b)
        case And(operands=operands):
            return _kleene(operands, values, decisive=False)
        case Or(operands=operands):
            return _kleene(operands, values, decisive=True)
        case Call(function=function, args=args):
            return _call(function, args, values)
    raise TypeError(f"not a formula node: {node!r}")


def _lookup(values: Mapping[str, Decimal | None], code: str) -> Decimal | None:
    """Missing, None and non-finite inputs all mean "no figure"; floats are refused, not guessed."""
    value: object = values.get(code)
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"value of {code!r} must be a Decimal or None, not {type(value).__name__}")


def _number(value: Value) -> Decimal | None:
    assert not isinstance(value, bool), "type checking lets only numbers reach arithmetic"
    return value


def _condition(value: Value) -> bool | None:
    assert value is None or isinstance(value, bool), "type checking lets only conditions here"
    return value


def _arithmetic(function: Callable[..., Decimal], *operands: Decimal) -> Decimal | None:
    """Overflow or an invalid operation on absurd inputs gives "no value", like a zero divisor."""
    try:
        return function(*operands)
    except ArithmeticError:
        return None


def _apply(op: str, a: Decimal, b: Decimal | None) -> Decimal | None:
    if b is None:
        return None
    if op == "+":
        return _arithmetic(operator.add, a, b)
    if op == "-":
        return _arithmetic(operator.sub, a, b)
    if op == "*":
        return _arithmetic(operator.mul, a, b)
    if b.is_zero():
        return None
    return _arithmetic(operator.truediv, a, b)


def _kleene(
    operands: tuple[Node, ...], values: Mapping[str, Decimal | None], *, decisive: bool
) -> bool | None:
    """Three-valued and/or: the decisive value wins outright, otherwise unknown beats the rest."""
    result: bool | None = not decisive
    for operand in operands:
        value = _condition(_evaluate(operand, values))
        if value is decisive:
            return decisive
        if value is None:
            result = None
    return result


def _call(function: str, args: tuple[Node, ...], values: Mapping[str, Decimal | None]) -> Value:
    if function == "if":
        condition = _condition(_evaluate(args[0], values))
        if condition is None:
            return None
        return _evaluate(args[1] if condition else args[2], values)
    if function == "coalesce":
        for arg in args:
            value = _evaluate(arg, values)
            if value is not None:
                return value
        return None
    numbers: list[Decimal] = []
    for arg in args:
        number = _number(_evaluate(arg, values))
        if number is None:
            return None
        numbers.append(number)
    if function == "abs":
        return _arithmetic(abs, numbers[0])
    return min(numbers) if function == "min" else max(numbers)


# Dependencies between computed indicators ---------------------------------------------------


def evaluation_order(formulas: Mapping[str, Formula]) -> list[str]:
    """Order computed codes so each comes after the computed codes it reads; refuse cycles."""
    order: list[str] = []
    done: set[str] = set()
    for start in formulas:
        if start in done:
            continue
        path = [start]
        pending = [_computed_inputs(formulas, start)]
        while pending:
            for dependency in pending[-1]:
                if dependency in done:
                    continue
                if dependency in path:
                    cycle = (*path[path.index(dependency) :], dependency)
                    raise FormulaError(
                        gettext("cycle among computed indicators: %(cycle)s")
                        % {"cycle": " -> ".join(cycle)},
                        codes=cycle,
                    )
                path.append(dependency)
                pending.append(_computed_inputs(formulas, dependency))
                break
            else:
                pending.pop()
                code = path.pop()
                done.add(code)
                order.append(code)
    return order


def _computed_inputs(formulas: Mapping[str, Formula], code: str) -> Iterator[str]:
    return iter(sorted(ref for ref in formulas[code].references if ref in formulas))


def evaluate_all(
    formulas: Mapping[str, Formula], values: Mapping[str, Decimal | None]
) -> dict[str, Decimal | None]:
    """Compute every computed code from the raw inputs, in dependency order.

    Returns only the computed codes. A computed code also present in ``values``
    is recomputed and the input ignored: rates come from raw figures, never
    from a stored (possibly rounded or stale) copy.
    """
    for code, formula in formulas.items():
        if formula.is_condition:
            raise FormulaError(
                gettext("formula of %(code)s is a condition, not a value") % {"code": repr(code)},
                text=formula.text,
            )
    results: dict[str, Decimal | None] = {}
    scope: Mapping[str, Decimal | None] = ChainMap(results, dict(values))
    for code in evaluation_order(formulas):
        results[code] = _number(formulas[code].evaluate(scope))
    return results


# Parsing ------------------------------------------------------------------------------------

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: ord(" ")}
_TOKEN = re.compile(
    rf"""
    (?P<space>\s+)
    | (?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)
    | (?P<name>{CODE_PATTERN})
    | (?P<op><=|>=|==|!=|[-+*/<>≤≥≠×÷])
    | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_UNICODE_OPS = {"≤": "<=", "≥": ">=", "≠": "!=", "×": "*", "÷": "/"}


@dataclass(frozen=True)
class _Token:
    kind: str
    value: str
    position: int
    source: str


class _Parser:
    """Pratt parser: one function per nesting level keeps Python's stack shallow."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = self._tokenise(text)
        self._index = 0

    def _tokenise(self, text: str) -> list[_Token]:
        """Scan up to the first bad character; the error is raised only if parsing gets there."""
        plain = text.translate(_FULL_WIDTH)
        tokens: list[_Token] = []
        position = 0
        while position < len(plain):
            match = _TOKEN.match(plain, position)
            if match is None:
                tokens.append(_Token("error", plain[position], position, text[position]))
                return tokens
            kind, value, end = match.lastgroup or "", match.group(), match.end()
            if kind == "name" and value.lower() in KEYWORDS:
                kind, value = "op", value.lower()
            elif kind == "op":
                value = _UNICODE_OPS.get(value, value)
            if kind != "space":
                tokens.append(_Token(kind, value, position, text[position:end]))
            position = end
        tokens.append(_Token("end", "", len(text), ""))
        return tokens

    def parse(self) -> Node:
        root = self._expression(0, 0)
        token = self._peek()
        if token.kind != "end":
            raise self._unexpected(token)
        return root

    def _peek(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind == "error":
            if token.value == "=":
                reason = gettext("unexpected character %(char)s (use '==' to compare)")
            else:
                reason = gettext("unexpected character %(char)s")
            raise self._error(reason % {"char": repr(token.source)}, token.position)
        return token

    def _next(self) -> _Token:
        token = self._peek()
        if token.kind != "end":
            self._index += 1
        return token

    def _error(self, reason: str, position: int | None) -> FormulaError:
        return FormulaError(reason, text=self._text, position=position)

    def _unexpected(self, token: _Token, expected: str = "") -> FormulaError:
        if token.kind == "end":
            return self._error(gettext("unexpected end of formula"), token.position)
        values = {"token": repr(token.source), "expected": expected}
        if expected:
            reason = gettext("unexpected token %(token)s (expected %(expected)s)") % values
        else:
            reason = gettext("unexpected token %(token)s") % values
        return self._error(reason, token.position)

    @contextmanager
    def _at(self, position: int) -> Iterator[None]:
        """Give a type error raised while building a node the position of its operator."""
        try:
            yield
        except FormulaError as error:
            if error.position is not None:
                raise
            raise self._error(error.reason, position) from None

    def _expression(self, least: int, depth: int) -> Node:
        """Parse operators binding at least as tight as ``least``; same-level runs go flat."""
        if depth > MAX_DEPTH:
            raise self._error(
                gettext("formula is nested more than the limit of %(limit)s levels deep")
                % {"limit": MAX_DEPTH},
                self._peek().position,
            )
        left = self._prefix(least, depth)
        level: int | None = None
        chain: list[tuple[_Token, Node]] = []
        while True:
            token = self._peek()
            precedence = _INFIX.get(token.value) if token.kind == "op" else None
            if precedence is None or precedence < least:
                break
            if precedence == level == _CMP:
                raise self._error(
                    gettext(
                        "comparisons do not chain: %(op)s follows another comparison "
                        "(join them with 'and')"
                    )
                    % {"op": repr(token.source)},
                    token.position,
                )
            if precedence != level:
                left = self._finish(left, chain)
                level, chain = precedence, []
            self._next()
            chain.append((token, self._expression(precedence + 1, depth + 1)))
        return self._finish(left, chain)

    def _finish(self, first: Node, chain: list[tuple[_Token, Node]]) -> Node:
        if not chain:
            return first
        token = chain[0][0]
        operands = (first, *(operand for _, operand in chain))
        if token.value in ("and", "or"):
            for position, operand in zip(
                (token.position, *(t.position for t, _ in chain)), operands, strict=True
            ):
                with self._at(position):
                    _require(operand, Kind.CONDITION, f"'{token.value}'")
            return And(operands) if token.value == "and" else Or(operands)
        if token.value in _COMPARISONS:
            with self._at(token.position):
                return Compare(token.value, first, chain[0][1])
        with self._at(token.position):
            _require(first, Kind.NUMBER, repr(token.value))
        for op, operand in chain:
            with self._at(op.position):
                _require(operand, Kind.NUMBER, repr(op.value))
        rest = tuple((op.value, operand) for op, operand in chain)
        return Sum(first, rest) if token.value in "+-" else Product(first, rest)

    def _prefix(self, least: int, depth: int) -> Node:
        """Read an operand; like Python, a bare 'not' may not follow a tighter operator."""
        token = self._next()
        if token.kind == "number":
            return Number(Decimal(token.value))
        if token.kind == "name":
            if self._peek().value == "(" and self._peek().kind == "punct":
                return self._call(token, depth)
            return Name(token.value)
        if token.kind == "op" and token.value == "not" and least > _NOT:
            raise self._error(
                gettext("%(op)s must be bracketed here, as in '(not …)'")
                % {"op": repr(token.source)},
                token.position,
            )
        if token.kind == "op" and token.value in ("-", "not"):
            operand = self._expression(_NEG if token.value == "-" else _NOT, depth + 1)
            with self._at(token.position):
                return Negate(operand) if token.value == "-" else Not(operand)
        if token.kind == "punct" and token.value == "(":
            inner = self._expression(0, depth + 1)
            self._close(token)
            return inner
        raise self._unexpected(token)

    def _close(self, opening: _Token, expected: str = "')'") -> None:
        token = self._next()
        if token.kind == "punct" and token.value == ")":
            return
        if token.kind == "end":
            raise self._error(
                gettext("unclosed %(bracket)s") % {"bracket": repr(opening.source)},
                opening.position,
            )
        raise self._unexpected(token, expected)

    def _call(self, name: _Token, depth: int) -> Node:
        function = name.value.lower()
        if function not in FUNCTIONS:
            raise self._error(_unknown_function(repr(name.source)), name.position)
        opening = self._next()
        args: list[Node] = []
        if self._peek().kind == "punct" and self._peek().value == ")":
            self._next()
        else:
            while True:
                args.append(self._expression(0, depth + 1))
                token = self._peek()
                if token.kind == "punct" and token.value == ",":
                    self._next()
                    continue
                self._close(opening, gettext("',' or ')'"))
                break
        with self._at(name.position):
            return Call(function, tuple(args))
