"""Numbers as a Chinese official document writes them in running text.

Thousands grouped (21,710), rates to two places with % (38.99%), changes of a rate in
percentage points (上升1.20个百分点), half-up rounding throughout (as the engine rounds).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def _d(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def dec(value: Any, places: int = 2, thousands: bool = False) -> str:
    q = _d(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{q:,.{places}f}" if thousands else f"{q:.{places}f}"


def figure(value: Any) -> str:
    """A count or amount: whole numbers without decimals, grouped by thousands."""
    d = _d(value)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return dec(d, 2, thousands=True)


def percent(value: Any) -> str:
    return "—" if value in (None, "") else f"{dec(value, 2)}%"


def signed_change(now: Any, before: Any) -> str:
    """The change of a rate in percentage points, in words (上升1.20个百分点 / 持平)."""
    delta = (_d(now) - _d(before)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if delta > 0:
        return f"上升{dec(delta)}个百分点"
    if delta < 0:
        return f"下降{dec(-delta)}个百分点"
    return "持平"


NUMERALS = "一二三四五六七八九十"


def change_mark(delta: int | None) -> str:
    """A change of place as the tables print it: ▲2 up, ▼1 down, — none."""
    if not delta:
        return "—"
    return f"▲{delta}" if delta > 0 else f"▼{-delta}"


def numeral(n: int) -> str:
    """一 … 十, 十一 … 九十九: the ordinal of a heading (（十二）)."""
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else NUMERALS[tens - 1]) + "十" + (NUMERALS[ones - 1] if ones else "")
