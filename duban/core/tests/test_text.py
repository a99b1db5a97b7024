"""Text shown to people: a problem's place in the reader's language."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("where", "zh", "en"),
    [
        ("line 7", "第 7 行", "line 7"),
        ("row 3", "第 3 行", "row 3"),
        ("line 2, column 5", "第 2 行第 5 列", "line 2, column 5"),
        ("line 4, column 1 (value)", "第 4 行第 1 列 (value)", "line 4, column 1 (value)"),
        ("file", "文件", "file"),
        ("H6", "H6", "H6"),
        ("items[2].target", "items[2].target", "items[2].target"),
    ],
)
def test_a_problems_place_reads_in_the_users_language(where: str, zh: str, en: str) -> None:
    from django.utils import translation

    from duban.text import where_in_words

    assert where_in_words(where) == zh
    with translation.override("en"):
        assert where_in_words(where) == en
