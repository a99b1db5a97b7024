"""The API: start a job, run it in the owner's language and name, end it well or badly."""

from __future__ import annotations

import logging

import pytest
from django.utils import translation

from duban.jobs import work
from duban.jobs.models import Job, State
from duban.jobs.tests import kinds
from duban.jobs.work import Progress, start
from duban.testing import make_user

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def immediate(settings, tmp_path):
    settings.TASKS = IMMEDIATE
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def owner(tree):
    return make_user("county_reporter", tree.county_a, "reporter")


def test_start_runs_the_kind_as_the_owner_and_ends_with_its_link(immediate, owner, tree) -> None:
    with translation.override("zh-hans"):
        job = start("jobs.test.count", user=owner, unit=tree.county_a, steps=12)
    assert (job.state, job.done, job.total) == (State.DONE, 12, 12)
    assert (job.outcome_url, job.outcome_label, job.message) == (
        "/orgs/",
        "Open the tree",
        "step 12",
    )
    assert job.label == "数据填报" and job.language == "zh-hans"
    assert job.params == {"steps": 12} and job.unit == tree.county_a
    assert kinds.SEEN["actor"] == owner, "the audit trail names the person who started it"
    assert kinds.SEEN["language_word"] == "首页", "the work runs in the owner's language"
    assert job.started is not None and job.finished is not None and job.task_id
    assert job.get_absolute_url() == f"/jobs/{job.pk}/"


def test_the_work_runs_in_english_for_an_english_owner(immediate, owner) -> None:
    with translation.override("en"):
        start("jobs.test.count", user=owner, steps=1)
    assert kinds.SEEN["language_word"] == "Home"


def test_a_refusal_ends_failed_with_its_problems_in_the_owners_language(immediate, owner) -> None:
    with translation.override("zh-hans"):
        job = start("jobs.test.refuse", user=owner)
    assert job.state == State.FAILED
    assert job.problems == [
        {"where": "B7", "message": "请选择文件"},
        {"where": "", "message": kinds_text("the file is empty")},
    ]
    assert "请选择文件" in job.error


def kinds_text(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def test_a_crash_ends_failed_with_a_number_and_is_logged(immediate, owner, caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="duban.jobs"), translation.override("en"):
        job = start("jobs.test.crash", user=owner)
    assert job.state == State.FAILED and job.problems == []
    assert job.error == (
        f"Something went wrong; try again, or give the system administrator this number: {job.pk}"
    )
    assert "boom" not in job.error, "the person is not shown the programmer's message"
    record = next(r for r in caplog.records if r.getMessage() == "job crashed")
    assert record.exc_info is not None and str(job.pk) == str(record.__dict__["job"])


def test_a_file_outcome_is_stored_and_the_upload_read(immediate, owner) -> None:
    job = start("jobs.test.file", user=owner, upload=("in.csv", b" and more"), text="hello")
    assert job.state == State.DONE and job.file_name == "report.txt"
    with job.file.open("rb") as fh:
        assert fh.read() == b"hello and more"


def test_start_refuses_an_unknown_kind_and_params_that_are_not_json(immediate, owner) -> None:
    with pytest.raises(LookupError):
        start("jobs.test.nothing", user=owner)
    with pytest.raises(TypeError):
        start("jobs.test.count", user=owner, steps=object())
    assert not Job.objects.exists()


def test_a_job_runs_once_even_if_delivered_twice(immediate, owner) -> None:
    job = start("jobs.test.count", user=owner, steps=2)
    from duban.jobs.work import run_job

    run_job.call(str(job.pk))
    job.refresh_from_db()
    assert job.state == State.DONE and job.done == 2


def test_progress_writes_each_hundredth_and_the_last_step(owner, monkeypatch) -> None:
    monkeypatch.setattr(work, "WRITE_EVERY", 3600)  # only the share of the work counts here
    job = Job.objects.create(kind="jobs.test.count", label="x", owner=owner)
    p = Progress(job)
    p.set_total(1000)
    for _ in range(9):
        p.advance(message="row")
    stored = Job.objects.get(pk=job.pk)  # the page's view of it, not the worker's
    assert (stored.total, stored.done) == (1000, 0), "nine rows of 1,000 wait for the tenth"
    p.advance(message="row 10")
    stored = Job.objects.get(pk=job.pk)
    assert (stored.done, stored.message) == (10, "row 10")
    p.advance(985)
    assert Job.objects.get(pk=job.pk).done == 995
    p.advance(4)
    assert Job.objects.get(pk=job.pk).done == 995
    p.advance()
    assert Job.objects.get(pk=job.pk).done == 1000, "the last step is always written"


def test_a_short_job_shows_every_step(owner, monkeypatch) -> None:
    monkeypatch.setattr(work, "WRITE_EVERY", 3600)
    job = Job.objects.create(kind="jobs.test.count", label="x", owner=owner)
    p = Progress(job)
    p.set_total(12)
    p.advance(message="one")
    assert Job.objects.get(pk=job.pk).done == 1
