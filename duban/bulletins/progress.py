"""The progress a bulletin reports (done ÷ task): per unit, and for the parent and each group
from the summed raw figures — never from the units' rates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from duban.bulletins import gather
from duban.evaluation.engine.decimals import plain
from duban.evaluation.scoring import Scored

Json = dict[str, Any]


@dataclass
class Progress:
    item: str
    name: str
    decimals: int
    units: dict[str, Json] = field(default_factory=dict)
    total: Json = field(default_factory=dict)
    groups: dict[str, Json] = field(default_factory=dict)
    trend: list[list[Any]] = field(default_factory=list)

    def summary(self) -> Json:
        return {
            "item": self.item,
            "name": self.name,
            "decimals": self.decimals,
            "total": self.total,
            "groups": self.groups,
            "trend": self.trend,
        }


def _s(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def _rate(done: Decimal | None, target: Decimal | None) -> Decimal | None:
    if done is None or not target:
        return None
    return (done * 100 / target).quantize(Decimal("0.01"))


def _sum(rows: list[tuple[Decimal | None, Decimal | None]]) -> Json:
    dones = [d for d, _t in rows if d is not None]
    targets = [t for _d, t in rows if t is not None]
    done = sum(dones, Decimal(0)) if dones else None
    target = sum(targets, Decimal(0)) if targets else None
    return {"done": _s(done), "target": _s(target), "rate": _s(_rate(done, target))}


def progress(scored: Scored, wanted: str, today: date) -> Progress | None:
    item = gather.progress_item(scored.engine, wanted)
    if item is None:
        return None
    found = Progress(item.code, gather.name(item.name), 0)
    pairs: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for code, u in scored.result.units.items():
        r = u.items.get(item.code)
        if r is None:
            continue
        pairs[code] = (r.value, r.target)
        rate = _rate(r.value, r.target)
        found.units[code] = {
            "target": _s(r.target),
            "done": _s(r.value),
            "rate": _s(rate),
            "band": gather.band_of(rate),
        }
    found.total = _sum(list(pairs.values()))
    for group_code, sequence, members in scored.result.cohorts:
        key = f"{group_code}:{sequence or ''}"
        found.groups[key] = _sum([pairs[m] for m in members if m in pairs])
    if scored.previous is not None:
        before = []
        for u in scored.previous.units.values():
            r = u.items.get(item.code)
            if r is not None:
                before.append((r.value, r.target))
        found.total["previous_rate"] = _sum(before)["rate"]
    return found
