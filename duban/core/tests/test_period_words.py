"""Periods are shown by name, never by identifier (duban.text.period_in_words)."""

from __future__ import annotations

import pytest

from duban.text import period_in_words


@pytest.mark.parametrize(
    ("period", "words"),
    [
        ("20261202", "2026年12月2日"),
        ("2026W48", "2026年第48周"),
        ("201710", "2017年10月"),
        ("2017Q1", "2017年第1季度"),
        ("2017S1", "2017年上半年"),
        ("2017S2", "2017年下半年"),
        ("2017", "2017年"),
        ("not-a-period", "not-a-period"),
    ],
)
def test_a_period_in_chinese(period: str, words: str) -> None:
    assert period_in_words(period) == words


def test_a_period_in_english(english: None) -> None:
    assert period_in_words("201710") == "2017 month 10"
    assert period_in_words("20261202") == "2026 month 12 day 2"
