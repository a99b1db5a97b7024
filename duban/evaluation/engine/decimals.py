"""Decimal arithmetic settings and display rounding shared by the whole engine.

Scores are exact decimals: sums and products of the entered figures are exact,
a division carries 34 significant digits (IEEE decimal128), and nothing is
rounded until a number is shown or ranked. Then it is rounded half-up, the way
an office rounds by hand (2.345 -> 2.35), never banker's rounding.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

ENGINE_CONTEXT = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
INFINITY = Decimal("Infinity")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def round2(value: Decimal) -> Decimal:
    """Half-up to 2 places: the figure that is shown and the one that is ranked."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fixed(value: Decimal, places: int) -> str:
    """A number with exactly ``places`` decimals, rounded half-up, for display only."""
    if not value.is_finite():
        return "∞" if value > 0 else "-∞"
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def plain(value: Decimal | int) -> str:
    """A figure as entered, without exponent or trailing zeros: 150, 0.5, 86.25."""
    if isinstance(value, int):
        return str(value)
    if not value.is_finite():
        return "∞" if value > 0 else "-∞"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


ENTERED_PLACES = 6  # the most decimals a stored figure has (indicators.DECIMAL_PLACES)


def figure(value: Decimal | int) -> str:
    """A figure for people to read: as entered (``plain``) when it has at most the six
    decimals a stored figure can have; a computed one — a rate from a formula carries 34
    significant digits — half-up to 2 places. Files and the API keep every digit."""
    if isinstance(value, int) or not value.is_finite():
        return plain(value)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -ENTERED_PLACES:
        return plain(value)
    return fixed(value, 2)


def percent(ratio: Decimal, places: int = 1) -> str:
    """A ratio shown as a percentage: 0.86 -> 86.0%."""
    if not ratio.is_finite():
        return "∞"
    return fixed(ratio * HUNDRED, places) + "%"


def as_decimal(value: object) -> Decimal | None:
    """Exact conversion of int, str or Decimal; floats go through ``str`` (shortest repr)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int | str):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raise TypeError(f"not a number: {value!r}")
