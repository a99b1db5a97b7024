"""Explanations of item scores: steps as data, rendered to Chinese or English on demand.

A rule appends :class:`Step` records while it computes (only when asked: the
hot path passes no trace), so the explanation and the score come from one code
path and cannot disagree. Rendering happens only when someone reads the text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from duban.evaluation.engine.decimals import figure, fixed, percent, plain

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Text:
    """A name in Chinese (always) and English (optional; falls back to Chinese)."""

    zh: str
    en: str = ""

    def get(self, lang: str = "zh") -> str:
        return self.en if lang == "en" and self.en else self.zh

    def __str__(self) -> str:
        return self.zh


@dataclass(frozen=True)
class Step:
    """One checkable step of a derivation: a template code and the numbers it shows."""

    code: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "zh") -> str:
        zh, en = TEMPLATES[self.code]
        template = en if lang == "en" else zh
        return template.format(**{k: _format(k, v, lang) for k, v in self.args.items()})

    def as_data(self) -> dict[str, Any]:
        """JSON-ready: numbers as exact strings, names as {zh, en}."""
        data: dict[str, Any] = {"code": self.code}
        for key, value in self.args.items():
            if isinstance(value, Decimal):
                data[key] = plain(value) if value.is_finite() else str(value)
            elif isinstance(value, Text):
                data[key] = {"zh": value.zh, "en": value.en}
            else:
                data[key] = value
        return data


@dataclass(frozen=True)
class Explanation:
    """The derivation of one item score, step by step."""

    steps: tuple[Step, ...]

    def text(self, lang: str = "zh") -> str:
        separator = ", " if lang == "en" else "，"
        return separator.join(step.text(lang) for step in self.steps)

    def as_data(self) -> list[dict[str, Any]]:
        return [step.as_data() for step in self.steps]

    def __str__(self) -> str:
        return self.text("zh")


def _two(value: Decimal) -> str:
    return fixed(value, 2)


def _one(value: Decimal) -> str:
    return fixed(value, 1)


# How an argument is shown depends on what it is, which its name says: scores and
# amounts with 2 decimals, ratios as percentages, entered figures as entered (a computed
# figure, such as a rate from a formula, with 2 decimals).
_FORMATS: dict[str, Callable[[Decimal], str]] = {
    "score": _two,
    "amount": _two,
    "subtotal": _two,
    "total": _two,
    "rate": percent,
    "share": percent,
    "cap_share": percent,
    "else_share": percent,
    "short": _one,
}


def _format(name: str, value: Any, lang: str) -> str:
    if isinstance(value, Decimal):
        return _FORMATS.get(name, figure)(value)
    if isinstance(value, Text):
        return value.get(lang)
    return str(value)


# code: (Chinese, English): the steps several rules share. A rule's own steps are in its
# class's ``texts`` and join this table when the class is registered (rules/registry.py).
TEMPLATES: dict[str, tuple[str, str]] = {
    # data problems (decided by the engine before any rule runs)
    "missing": ("无数据，计 0 分", "no value: 0 points"),
    "no_target": ("未设目标，计 0 分", "no target set: 0 points"),
    "invalid": ("数据无效（{reason}），计 0 分", "invalid value ({reason}): 0 points"),
    "incomplete": ("部分数据缺失，按已有数据计", "some figures missing: scored on those given"),
    "not_ranked": (
        "该级别单位本项只展示不排名，不计入总分",
        "shown, not ranked at this level: not counted in the total",
    ),
    # figures and completion
    "value": ("数值 {value}", "value {value}"),
    "actual_target": ("实际 {value}，目标 {target}", "actual {value}, target {target}"),
    "rate": ("完成率 {rate}", "completion {rate}"),
    "rate_lower": ("完成率（目标÷实际）{rate}", "completion (target ÷ actual) {rate}"),
    "zero_target_met": ("目标为 0，视为完成", "target is 0: counted as met"),
    "zero_target_missed": (
        "目标为 0 而实际为负，完成率按 0 计",
        "target is 0 and actual is negative: completion 0",
    ),
    "best_possible": ("越低越好，已为最优", "lower is better: best possible"),
    "product": ("{points} 分 × {share}", "{points} × {share}"),
    "met": ("达到目标，得满分", "target met: full points"),
    "deduct": ("扣 {amount} 分", "minus {amount}"),
    "floor_zero": ("扣完为止", "stops at 0"),
    "score": ("得 {score} 分", "score {score}"),
    # counts
    "cap_points": ("最高 {cap} 分", "at most {cap}"),
    "occurrences": ("发生 {count} 次", "{count} occurrence(s)"),
}
