"""The real database backend end to end: `start` enqueues, `duban worker --batch` runs it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from duban.jobs.models import Job, State
from duban.jobs.tests import kinds  # noqa: F401  (registers the test kinds)
from duban.jobs.work import start
from duban.testing import make_user


@pytest.fixture
def owner(transactional_db, tree):
    return make_user("county_reporter", tree.county_a, "reporter")


def test_the_worker_runs_a_queued_job_to_its_end(owner, settings) -> None:
    assert settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    job = start("jobs.test.count", user=owner, steps=12)
    assert job.state == State.QUEUED and job.done == 0, "nothing runs before the worker"
    assert DBTaskResult.objects.get(id=job.task_id).status == "READY"
    call_command("worker", "--batch", "--no-startup-delay", verbosity=0)
    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.outcome_url) == (State.DONE, 12, 12, "/orgs/")
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"


def test_a_crash_in_the_worker_fails_the_job_not_the_worker(owner) -> None:
    crashed = start("jobs.test.crash", user=owner)
    counted = start("jobs.test.count", user=owner, steps=2)
    call_command("worker", "--batch", "--no-startup-delay", verbosity=0)
    states = dict(Job.objects.values_list("pk", "state"))
    assert states == {crashed.pk: State.FAILED, counted.pk: State.DONE}
    assert str(crashed.pk) in Job.objects.get(pk=crashed.pk).error


def test_the_worker_command_defaults_to_every_queue_and_a_short_poll() -> None:
    from duban.jobs.management.commands.worker import Command

    parser = Command().create_parser("duban", "worker")
    options = parser.parse_args([])
    assert (options.queue_name, options.interval, options.reload) == ("*", 0.5, False)
