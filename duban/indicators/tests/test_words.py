"""Indicators' settings in words: levels and kinds by name, a rule's condition by names."""

from __future__ import annotations

from django.utils import translation

from duban.indicators.words import condition_in_words, kinds_in_words, levels_in_words


def test_levels_kinds_and_conditions_in_words() -> None:
    with translation.override("zh-hans"):
        assert levels_in_words(["county", "station"]) == "县区局、派出所"
        assert kinds_in_words(["territorial"]) == "地区单位"
        assert levels_in_words([]) == "—"
        names = {"case.solved": "破案数", "case.filed": "立案数"}
        assert condition_in_words("case.solved <= case.filed", names) == "破案数 ≤ 立案数"
        assert condition_in_words("a.x >= 0 and case.filed != 1", names) == "a.x ≥ 0 且 立案数 ≠ 1"
