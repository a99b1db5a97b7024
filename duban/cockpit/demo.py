"""Invented daily dispatch figures of Yongzhou's county bureaus, for the meeting screen.

The reporting demo's figures are monthly and of 2017, but the demo meetings are dated around
today: this adds a small daily data set (刑事案件立案数, 抓获逃犯, 查处酒驾醉驾, 淘汰黄标车) from
1 January of the year before the oldest demo meeting up to today, so that the week, the 28
days and the year to date against the year before all have figures. Written by the one
writer (`reporting.values.put_figures`, system actor, approved) in one bulk call; every
figure is made up from a fixed seed and marked as invented.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from duban.audit.context import acting_as
from duban.indicators import services as ind_services
from duban.indicators.models import DataSet, Indicator
from duban.orgs.models import Kind, OrgUnit
from duban.orgs.policy import SYSTEM
from duban.periods import PeriodType
from duban.reporting.models import State
from duban.reporting.values import Figure, put_figures

SEED = 20171208
DATA_SET = "YZ-DISPATCH"
INVENTED = "演示数据均为虚构。"
# code, Chinese and English name, unit of measure, direction, owning division, mean per day
DAILY = (
    ("daily.case.filed", "刑事案件立案数", "Criminal cases filed", "起", "lower", "XZZD", 2.2),
    ("daily.fugitive.caught", "抓获逃犯", "Fugitives caught", "人", "higher", "XZZD", 0.25),
    ("daily.traffic.drunk", "查处酒驾醉驾", "Drink-driving cases", "起", "higher", "JJZD", 0.9),
    ("daily.traffic.yellow", "淘汰黄标车", "Yellow-label vehicles removed", "辆", "higher", "JJZD", 1.1),
)  # fmt: skip


def first_day(today: date) -> date:
    """1 January of the year before the oldest demo meeting (about four months back)."""
    month = today.month - 1 - 5
    oldest_year = today.year + month // 12
    return date(oldest_year - 1, 1, 1)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth): small daily counts behave so, which the screen's marks assume."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _define(root: OrgUnit) -> list[Indicator]:
    divisions = {
        u.code.rsplit("-", 1)[-1]: u
        for u in OrgUnit.objects.subtree_of(root).filter(kind=Kind.DIVISION)
    }
    indicators = []
    for order, (code, zh, en, measure, direction, division, _mean) in enumerate(DAILY):
        indicators.append(
            ind_services.create_indicator(
                user=SYSTEM,
                issuer=root,
                code=code,
                name_zh=zh,
                name_en=en,
                description=INVENTED,
                unit_of_measure=measure,
                value_type="integer",
                decimals=0,
                direction=direction,
                period_type=PeriodType.DAILY,
                levels=["county"],
                kinds=["territorial"],
                division=divisions.get(division),
                sort_order=order,
            )
        )
    ind_services.create_data_set(
        user=SYSTEM,
        owner=root,
        code=DATA_SET,
        name_zh=f"{root.name_zh}调度日报（演示）",
        name_en="Daily dispatch figures (demo)",
        period_type=PeriodType.DAILY,
        timely_days=1,
        expiry_days=7,
        indicators=[i.code for i in indicators],
    )
    return indicators


@transaction.atomic
def load_screen_demo(today: date) -> int:
    """Define the daily data set and write its invented figures; returns the figures written
    (0 when loaded already, or when the Yongzhou demo is not there)."""
    root = OrgUnit.objects.filter(code="YZ", is_demo=True).first()
    if root is None or DataSet.objects.filter(code=DATA_SET).exists():
        return 0
    rng = random.Random(f"{SEED}-dispatch")
    with acting_as(source="duban demo", reason="演示数据（虚构）"):
        indicators = _define(root)
        counties = [
            u
            for u in OrgUnit.objects.filter(
                parent=root, kind=Kind.TERRITORIAL, is_active=True
            ).order_by("sort_order", "code")
            if indicators[0].reported_by(u)
        ]
        size = {u.pk: rng.uniform(0.5, 1.8) for u in counties}
        means = {ind.pk: mean for ind, (*_rest, mean) in zip(indicators, DAILY, strict=True)}
        figures: list[Figure] = []
        day = first_day(today)
        while day <= today:
            period = f"{day:%Y%m%d}"
            winter = 1.2 if day.month in (1, 2, 12) else 1.0
            for unit in counties:
                for ind in indicators:
                    value = poisson(rng, means[ind.pk] * size[unit.pk] * winter)
                    figures.append(Figure(unit, ind, period, Decimal(value), State.APPROVED))
            day += timedelta(days=1)
        # Named figure by figure, as the evaluation demo's invented figures are, so
        # `audit verify --data` replays them (their catalogue entry: invented figures).
        put_figures(figures, user=SYSTEM, action="evaluation.demo.values", reason=INVENTED)
    return len(figures)
