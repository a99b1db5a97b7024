"""Properties of the period parser on arbitrary text (test_core's properties start from valid
periods): any string is a period or a ValueError in the user's language that quotes it, never
another exception; a period read is canonical, so str → parse → str gives it back; and the
words a page shows for any text never raise. Bounded, derandomised examples."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from duban.periods import Period, parse_period
from duban.text import period_in_words

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)
CHINESE = re.compile("[\u4e00-\u9fff]")

# Pieces identifiers are made of, and the look-alikes people type: full-width and Arabic-Indic
# digits, dashes, spaces, lower-case letters, another calendar's words.
PIECES = ["2017", "1899", "3000", "0000", "20", "0", "1", "9", "12", "13", "00", "31", "53", "54"]
PIECES += ["W", "w", "Q", "q", "S", "B", "M", "-", "/", " ", "\t", "\u3000", "２０１７", "١٢"]
PIECES += ["年", "月", "季度", "\x00", "\n", "+", "e", "."]
pieced = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
texts = st.one_of(
    pieced, st.text(max_size=14), st.from_regex(r"[0-9]{4}[A-Z]?[0-9]{0,4}", fullmatch=True)
)


def read(text: str) -> Period | ValueError:
    try:
        return parse_period(text)
    except ValueError as exc:
        return exc


@given(texts)
@PROPERTY
@example("２０１７")  # full-width digits are not an identifier
@example("2017W00")
@example("20170229")
@example(" 2017Q4 ")
def test_any_text_is_a_period_or_a_refusal_that_quotes_it(text: str) -> None:
    result = read(text)
    if isinstance(result, ValueError):
        message = str(result)
        assert CHINESE.search(message), message
        assert repr(text.strip()) in message
        return
    assert parse_period(result.id) == result
    assert str(parse_period(str(result))) == str(result)  # str → parse → str


@given(texts)
@PROPERTY
def test_a_period_in_words_never_raises(text: str) -> None:
    words = period_in_words(text)
    assert isinstance(words, str)
    if isinstance(read(text), ValueError):
        assert words == text


def test_non_strings_are_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_period(201712)  # type: ignore[arg-type]
