"""A small monthly data set on the shared test tree, opened for November and December 2017."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from duban.indicators import services as ind_services
from duban.indicators.models import DataSet, Indicator
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.models import DataValue, State
from duban.reporting.values import Figure, put_figures


@dataclass
class Form:
    data_set: DataSet
    filed: Indicator
    solved: Indicator
    clearance: Indicator
    poll: Indicator
    gangs: Indicator


def make_form(tree, *, expiry_days: int = 15, levels: list[str] | None = None) -> Form:
    levels = levels or ["county", "station"]
    make = ind_services.create_indicator
    filed = make(
        user=SYSTEM,
        issuer=tree.city,
        code="case.filed",
        name_zh="立案数",
        name_en="Cases filed",
        value_type="integer",
        levels=levels,
        kinds=["territorial"],
        unit_of_measure="起",
        sort_order=1,
    )
    solved = make(
        user=SYSTEM,
        issuer=tree.city,
        code="case.solved",
        name_zh="破案数",
        name_en="Cases solved",
        value_type="integer",
        levels=levels,
        kinds=["territorial"],
        sort_order=2,
    )
    clearance = make(
        user=SYSTEM,
        issuer=tree.city,
        code="case.clearance",
        name_zh="破案率",
        name_en="Clearance rate",
        value_type="percentage",
        formula="case.solved / case.filed * 100",
        sort_order=3,
    )
    poll = make(
        user=SYSTEM,
        issuer=tree.city,
        code="poll.score",
        name_zh="民调得分",
        name_en="Poll score",
        value_type="percentage",
        unit_aggregation="average",
        time_aggregation="average",
        levels=["county"],
        kinds=["territorial"],
        sort_order=4,
    )
    gangs = make(
        user=SYSTEM,
        issuer=tree.city,
        code="crime.gangs",
        name_zh="打掉团伙",
        name_en="Gangs",
        value_type="integer",
        levels=["county"],
        kinds=["territorial"],
        division=tree.division,
        division_reports=True,
        sort_order=5,
    )
    ds = ind_services.create_data_set(
        user=SYSTEM,
        owner=tree.city,
        code="CITY-M",
        name_zh="月报",
        name_en="Monthly report",
        period_type="monthly",
        timely_days=5,
        expiry_days=expiry_days,
        indicators=["case.filed", "case.solved", "case.clearance", "poll.score", "crime.gangs"],
    )
    ind_services.add_rule(
        ds,
        user=SYSTEM,
        name="solved ≤ filed",
        expression="case.solved <= case.filed",
        message="cases solved cannot exceed cases filed",
    )
    for period in ("201711", "201712"):
        services.open_period(ds, period, user=SYSTEM)
    return Form(ds, filed, solved, clearance, poll, gangs)


@pytest.fixture
def form(tree) -> Form:
    return make_form(tree)


@pytest.fixture
def open_form(tree, personas) -> Form:
    """The form with the personas, its periods never expiring (for tests run on any date)."""
    return make_form(tree, expiry_days=0)


TODAY = date(2017, 12, 20)  # 201711 closed on 2017-12-15 (expired), 201712 open


def db_dump() -> tuple[object, ...]:
    """Everything an import may touch, to prove a rejected file changed nothing."""
    from duban.audit.models import AuditEntry
    from duban.reporting.models import DataValue, Evidence, Submission

    return (
        sorted(
            (
                v.unit.code,
                v.indicator.code,
                v.period,
                str(v.value),
                v.comment,
                v.state,
                v.updated_at.isoformat(),
            )
            for v in DataValue.objects.select_related("unit", "indicator")
        ),
        sorted(Submission.objects.values_list("data_set__code", "unit__code", "period", "state")),
        Evidence.objects.count(),
        AuditEntry.objects.count(),
        list(AuditEntry.objects.order_by("-id").values_list("hash", flat=True)[:1]),
    )


def values_of(unit, period: str) -> dict[str, object]:
    from duban.reporting.models import DataValue

    return {
        v.indicator.code: v.value
        for v in DataValue.objects.filter(unit=unit, period=period).select_related("indicator")
    }


def put_figure(
    unit: OrgUnit,
    indicator: Indicator,
    period: str,
    value: object,
    state: str = State.APPROVED,
    comment: str = "",
) -> DataValue:
    """The test fixtures' one way to place a figure outside a form, in any state: through the
    writer (`values.put_figures`), which keeps the year-to-date totals and the audit trail."""
    amount = None if value is None else Decimal(str(value))
    put_figures(
        [Figure(unit, indicator, period, amount, state, comment)],
        user=SYSTEM,
        action="reporting.values.put",
    )
    return DataValue.objects.get(unit=unit, indicator=indicator, period=period)


def reported_below(form: Form, tree, period: str = "201712") -> None:
    """STATION-A1, below COUNTY-A, has reported and been approved: COUNTY-A may submit
    (a county cannot submit while a unit below it must report first)."""
    from duban.reporting.models import Submission

    Submission.objects.update_or_create(
        data_set=form.data_set,
        unit=tree.station_a1,
        period=period,
        defaults={"state": State.APPROVED},
    )
