"""A task linked to an indicator is declared done by the daily pass when the target is reached:
from approved (or locked) figures over the scheme's statistical year, never from drafts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import time_machine
from django.core.management import call_command

from duban.evaluation.models import Category, Scheme, SchemeItem, SchemeStatus
from duban.reporting.models import State
from duban.reporting.tests.conftest import make_form, put_figure
from duban.tasks.links import approved_year_figure
from duban.tasks.tests.factories import make_task


def _scheme_from_december(tree) -> Scheme:
    """A published scheme scoring cases solved whose year runs 1 Dec 2016 – 30 Nov 2017: its
    months are 201612 … 201711, and it is named 2016 after its first month, as the engine
    (and DHIS2, for financial years) names a statistical year."""
    scheme = Scheme.objects.create(
        code="yz-2017", year=2016, issuer=tree.city, name_zh="2017年度考评方案",
        start_month=12, start_day=1, status=SchemeStatus.PUBLISHED,
    )  # fmt: skip
    category = Category.objects.create(scheme=scheme, code="work", name_zh="业务", points=50)
    SchemeItem.objects.create(
        scheme=scheme, code="solved", category=category, indicator="case.solved",
        name_zh="破案数", points=20, rule={"kind": "attainment"},
    )  # fmt: skip
    return scheme


@time_machine.travel("2017-11-20 09:00 +0800", tick=False)
def test_drafts_do_not_reach_the_target_approved_figures_of_the_statistical_year_do(tree) -> None:
    form = make_form(tree)
    _scheme_from_december(tree)
    task = make_task(
        tree.city, tree.county_a, title="破案攻坚", indicator_code="case.solved",
        indicator_target=Decimal(30),
    )  # fmt: skip
    # Drafts worth 40: nothing is declared.
    for period, value in (("201709", 25), ("201710", 15)):
        put_figure(tree.county_a, form.solved, period, value, State.DRAFT)
    call_command("tasks_daily")
    task.refresh_from_db()
    assert task.completed_on is None
    # Approved: Dec 2016 (in this statistical year) 12 + Sep 10 + Oct 5 = 27 < 30; the
    # approved 50 of Nov 2016 belongs to the year before and never counts.
    put_figure(tree.county_a, form.solved, "201611", 50, State.APPROVED)
    put_figure(tree.county_a, form.solved, "201612", 12, State.APPROVED)
    put_figure(tree.county_a, form.solved, "201709", 10, State.APPROVED)
    put_figure(tree.county_a, form.solved, "201710", 5, State.LOCKED)
    put_figure(tree.county_a, form.solved, "201711", 99, State.SUBMITTED)  # not yet approved
    call_command("tasks_daily")
    task.refresh_from_db()
    assert task.completed_on is None  # 27 < 30
    # November corrected and approved (3): 12 + 10 + 5 + 3 = 30, reached.
    put_figure(tree.county_a, form.solved, "201711", 3, State.APPROVED)
    call_command("tasks_daily")
    task.refresh_from_db()
    assert task.completed_on is not None and task.closed_on is None  # awaiting the issuer's check
    call_command("tasks_daily")  # twice: nothing more happens
    task.refresh_from_db()
    assert task.closed_on is None


@time_machine.travel("2017-11-20 09:00 +0800", tick=False)
def test_the_statistical_year_is_the_schemes_and_the_calendar_year_without_one(tree) -> None:
    form = make_form(tree)
    put_figure(tree.county_a, form.solved, "201612", 12, State.APPROVED)
    put_figure(tree.county_a, form.solved, "201701", 4, State.APPROVED)
    put_figure(tree.county_a, form.solved, "201711", 6, State.DRAFT)
    day = date(2017, 11, 20)
    # No scheme scores it: January to date of the calendar year.
    assert approved_year_figure("case.solved", tree.county_a, day) == Decimal(4)
    _scheme_from_december(tree)
    assert approved_year_figure("case.solved", tree.county_a, day) == Decimal(16)
