"""A weighted count's classes by their names in a derivation: the engine knows a class by
its code (`caught`, the indicator `fugitive.caught`); a reader knows it as 抓获逃犯."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from duban.evaluation.engine.explain import Explanation, Text
from duban.indicators.models import Indicator


def with_class_names(rows: Iterable[tuple[str, Explanation]]) -> list[Explanation]:
    """Each (item indicator, explanation) with its classes named, in one query."""
    rows = list(rows)
    codes = {
        f"{indicator}.{step.args['cls']}"
        for indicator, explanation in rows
        for step in explanation.steps
        if "cls" in step.args
    }
    names = {
        i.code: Text(i.name_zh, i.name_en)
        for i in Indicator.objects.filter(code__in=codes).only("code", "name_zh", "name_en")
    }
    out = []
    for indicator, explanation in rows:
        steps = tuple(
            replace(
                s, args={**s.args, "cls": names.get(f"{indicator}.{s.args['cls']}", s.args["cls"])}
            )
            if "cls" in s.args
            else s
            for s in explanation.steps
        )
        out.append(Explanation(steps))
    return out
