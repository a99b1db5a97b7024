"""Stored results: served while their inputs are unchanged, never once a figure moved;
the recompute job fills every period of the year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from duban.evaluation import cache
from duban.evaluation.jobs import RECOMPUTE, ensure_recompute
from duban.evaluation.models import StoredResult
from duban.evaluation.tests.conftest import put
from duban.jobs.models import Job, State
from duban.jobs.work import start
from duban.testing import logged_in

from .conftest import IMMEDIATE

pytestmark = pytest.mark.django_db
TODAY = date(2018, 1, 10)


def test_a_miss_computes_the_period_and_stores_it(scheme: Any) -> None:
    year = cache.year_results(scheme, None, today=TODAY)
    assert year is not None and year.period == "201703"
    assert year.with_data == ("201701", "201702", "201703")
    assert StoredResult.objects.filter(scheme=scheme).count() == 1
    assert year.stale, "January and February are not kept yet"
    assert year.current["units"]["COUNTY-A"]["total"] != ""


def test_an_approved_figure_changes_the_stamp_and_the_entry_is_not_served(scheme: Any) -> None:
    before = cache.input_stamp(scheme)
    cache.store(scheme, "201703", before, today=TODAY)
    entry = StoredResult.objects.get(scheme=scheme, period="201703")
    assert cache.is_current(entry, cache.input_stamp(scheme), TODAY)
    total = entry.data["units"]["CITY"]["total"]
    put("CITY", "t.solved", "201703", 10, state="submitted")
    assert cache.input_stamp(scheme) == before, "a figure not yet approved does not score"
    put("CITY", "t.solved", "201703", 10, state="approved")
    after = cache.input_stamp(scheme)
    assert after != before
    assert not cache.is_current(entry, after, TODAY)
    year = cache.year_results(scheme, "201703", today=TODAY)
    assert year is not None
    assert year.current["units"]["CITY"]["total"] == str(Decimal(total) + 2), "20 × 10/100 more"
    assert StoredResult.objects.get(scheme=scheme, period="201703").stamp == after


def test_a_running_period_kept_yesterday_is_stale_today(scheme: Any) -> None:
    stamp = cache.input_stamp(scheme)
    cache.store(scheme, "2017", stamp, today=date(2017, 6, 1))
    entry = StoredResult.objects.get(scheme=scheme, period="2017")
    assert cache.is_current(entry, stamp, date(2017, 6, 1))
    assert not cache.is_current(entry, stamp, date(2017, 6, 2)), "expected progress moved"
    cache.store(scheme, "201703", stamp, today=date(2017, 6, 1))
    march = StoredResult.objects.get(scheme=scheme, period="201703")
    assert cache.is_current(march, stamp, date(2017, 6, 2)), "a month over is measured at its end"


def test_the_recompute_job_stores_every_period_with_progress(
    scheme: Any, people: Any, settings: Any, tmp_path: Any
) -> None:
    settings.TASKS = IMMEDIATE
    settings.MEDIA_ROOT = tmp_path
    job = start(RECOMPUTE, user=people["city_leader"], unit=scheme.issuer, scheme=scheme.code)
    assert (job.state, job.done, job.total) == (State.DONE, 19, 19), job.error
    assert job.outcome_url == f"/evaluation/schemes/{scheme.code}/scores/"
    assert StoredResult.objects.filter(scheme=scheme).count() == 19
    year = cache.year_results(scheme, None, today=TODAY)
    assert year is not None and not year.stale
    assert set(year.months) == {"201701", "201702", "201703"}


def test_one_recompute_at_a_time_per_scheme(scheme: Any, people: Any) -> None:
    first = ensure_recompute(scheme, user=people["city_leader"])
    assert first.state == State.QUEUED, "the database queue: no worker in this test"
    assert ensure_recompute(scheme, user=people["county_leader"]) == first
    assert Job.objects.filter(kind=RECOMPUTE).count() == 1


def test_the_cockpit_says_when_months_are_being_recomputed_and_asks_for_it(
    city_scheme: Any, people: Any
) -> None:
    page = logged_in("city_leader").get("/cockpit/CITY/").content.decode()
    assert "得分正在重新计算" in page
    assert Job.objects.filter(kind=RECOMPUTE, state=State.QUEUED).count() == 2
    for s in (city_scheme, city_scheme.__class__.objects.get(code="t-2017")):
        cache.recompute(s)
    assert "得分正在重新计算" not in logged_in("city_leader").get("/cockpit/CITY/").content.decode()


def test_the_recompute_button_starts_the_job(city_scheme: Any, people: Any) -> None:
    client = logged_in("city_leader")
    page = client.get("/evaluation/schemes/c-2017/").content.decode()
    assert "/cockpit/recompute/c-2017/" in page
    response = client.post("/cockpit/recompute/c-2017/")
    job = Job.objects.get(kind=RECOMPUTE)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert logged_in("county_reporter").post("/cockpit/recompute/t-2017/").status_code in (302, 403)


def test_a_milestone_moves_the_stamp_only_of_a_scheme_that_scores_milestones(
    scheme: Any, tree: Any
) -> None:
    from duban.evaluation.models import SchemeItem
    from duban.evaluation.values import MILESTONE_SHARE
    from duban.orgs.policy import SYSTEM
    from duban.tasks import services as task_services
    from duban.tasks.tests.factories import make_milestone, make_task

    task = make_task(tree.city, tree.county_a)
    milestone = make_milestone(task, date(2017, 3, 28))
    before = cache.input_stamp(scheme)
    task_services.mark_milestone_met(
        milestone, user=SYSTEM, on=date(2017, 3, 28), today=date(2017, 7, 10)
    )
    assert cache.input_stamp(scheme) == before, "this scheme reads figures alone"
    SchemeItem.objects.filter(scheme=scheme, code="solved").update(indicator=MILESTONE_SHARE)
    with_tasks = cache.input_stamp(scheme)
    other = make_milestone(task, date(2017, 4, 28))
    task_services.mark_milestone_met(
        other, user=SYSTEM, on=date(2017, 4, 28), today=date(2017, 7, 10)
    )
    assert cache.input_stamp(scheme) != with_tasks, "a milestone met changes the share it scores"
