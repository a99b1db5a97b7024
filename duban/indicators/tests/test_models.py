"""Reading entered figures by value type and range; who reports an indicator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duban.indicators.models import Indicator, fmt
from duban.testing import make_unit


def ind(value_type: str, **fields: object) -> Indicator:
    return Indicator(code="x.y", name_zh="x", value_type=value_type, **fields)


@pytest.mark.parametrize(
    ("value_type", "raw", "expected"),
    [
        ("integer", "12", Decimal(12)),
        ("integer", " 1,204 ", Decimal(1204)),
        ("integer", 7, Decimal(7)),
        ("integer", 7.0, Decimal(7)),
        ("integer", "", None),
        ("integer", None, None),
        ("integer", "0", Decimal(0)),
        ("decimal", "3.25", Decimal("3.25")),
        ("decimal", 0.1, Decimal("0.1")),
        ("percentage", "95.5%", Decimal("95.5")),
        ("percentage", "100", Decimal(100)),
        ("boolean", "是", Decimal(1)),
        ("boolean", "no", Decimal(0)),
        ("boolean", True, Decimal(1)),
        ("boolean", 0, Decimal(0)),
    ],
)
def test_clean_value_reads_each_type(
    value_type: str, raw: object, expected: Decimal | None
) -> None:
    assert ind(value_type).clean_value(raw) == expected


@pytest.mark.parametrize(
    ("value_type", "raw", "message"),
    [
        ("integer", "12.5", "whole number"),
        ("integer", "-1", "at least 0"),
        ("integer", "abc", "not a number"),
        ("integer", "=SUM(A1:A3)", "formula"),
        ("integer", "NaN", "finite"),
        ("integer", "1e20", "too large"),
        ("integer", True, "yes/no"),
        ("decimal", "1.234", "at most 2 decimal places"),
        ("percentage", "100.5", "at most 100"),
        ("percentage", "-3", "at least 0"),
        ("boolean", "2", r"yes \(1\) or no \(0\)"),
        ("boolean", "maybe", "not a number"),
    ],
)
def test_clean_value_refuses_with_a_reason(
    english, value_type: str, raw: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ind(value_type).clean_value(raw)


def test_the_reason_is_in_the_users_language() -> None:
    """Tests run in Chinese, as the users do."""
    with pytest.raises(ValueError, match=r"^必须是整数$"):
        ind("integer").clean_value("12.5")
    with pytest.raises(ValueError, match=r"^'abc' 不是数字$"):
        ind("integer").clean_value("abc")


def test_stated_range_replaces_the_natural_one(english) -> None:
    rate = ind("decimal", min_value=Decimal(-100), max_value=Decimal(50))
    assert rate.clean_value("-40") == Decimal(-40)
    with pytest.raises(ValueError, match="at most 50"):
        rate.clean_value("51")


def _answer(indicator: Indicator, raw: object) -> object:
    try:
        return indicator.clean_value(raw)
    except ValueError as exc:
        return str(exc)


WHOLE_EDGES = [0, 1, 2, -1, 50, 51, -100, -101, 10**12 - 1, 10**12, -(10**12) + 1, -(10**12)]


@given(
    st.one_of(st.sampled_from(WHOLE_EDGES), st.integers(-(10**13), 10**13)),
    st.sampled_from(["integer", "decimal", "percentage", "boolean"]),
    st.sampled_from([(None, None), (Decimal("-100.5"), Decimal("50.5")), (Decimal(1), None)]),
)
def test_a_whole_number_cell_gets_the_answer_its_text_gets(
    raw: int, value_type: str, limits: tuple[Decimal | None, Decimal | None]
) -> None:
    """An int (most cells of a sheet) takes a shortcut past `_check`; it must accept and
    refuse exactly what the same number typed as text does, with the same message."""
    low, high = limits
    indicator = ind(value_type, min_value=low, max_value=high)
    assert _answer(indicator, raw) == _answer(
        ind(value_type, min_value=low, max_value=high), str(raw)
    )


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    )
)
def test_fmt_reads_back_to_the_same_number(value: Decimal) -> None:
    text = fmt(value)
    assert "E" not in text and Decimal(text) == value


@pytest.mark.django_db
def test_reported_by_follows_levels_kinds_division_and_issuer(tree) -> None:
    filed = Indicator.objects.create(
        code="case.filed",
        name_zh="立案",
        value_type="integer",
        issuer=tree.city,
        levels=["county"],
        kinds=["territorial"],
        division=tree.division,
        division_reports=True,
    )
    assert filed.reported_by(tree.county_a)
    assert not filed.reported_by(tree.station_a1), "stations are not in the levels"
    assert not filed.reported_by(tree.city), "the city sees an aggregate, it does not report"
    assert filed.reported_by(tree.division), "the owning division reports its line"
    other_div = make_unit("DIV2", tree.city, level="city", kind="division")
    assert not other_div.path.startswith("x") and not filed.reported_by(other_div)
    foreign = make_unit("F-COUNTY", tree.other_city)
    assert not filed.reported_by(foreign), "outside the issuer's subtree"
    rate = Indicator(
        code="case.rate",
        name_zh="率",
        value_type="percentage",
        issuer=tree.city,
        levels=["county"],
        kinds=["territorial"],
        formula="case.filed * 2",
    )
    assert not rate.reported_by(tree.county_a), "computed indicators are never entered"
