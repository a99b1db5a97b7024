"""One piece of background work a person started and waits for (docs/jobs.md).

A `Job` row is what the progress page reads: its state, how far it is (`done` of `total`),
the last message, and its end (a link, a file, or what went wrong). The worker runs it by
primary key through django-tasks (`duban.jobs.work.run_job`); the row, not the task
library's result, is the record. Jobs are not audited: the work they do is, in the owner's
name.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from duban.accounts.models import User

# Nothing started this long after the job was queued: no worker is running (or all are busy).
STALE_QUEUE = timedelta(seconds=10)


class State(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("background work", "waiting to start")
    RUNNING = "running", pgettext_lazy("background work", "running")
    DONE = "done", pgettext_lazy("background work", "done")
    FAILED = "failed", pgettext_lazy("background work", "failed")


def upload_path(job: Job, filename: str) -> str:
    """The file the job reads (an import): named by the job, never by the sender's name."""
    return f"jobs/{job.pk}/in"


def outcome_path(job: Job, filename: str) -> str:
    """The file the job made; its name for the download is kept in `file_name`."""
    return f"jobs/{job.pk}/out"


class JobQuerySet(models.QuerySet["Job"]):
    def owned_by(self, user: User) -> JobQuerySet:
        """A person's own background work: nobody else's job is shown or opened."""
        return self.filter(owner=user)

    def recent(self) -> JobQuerySet:
        return self.order_by("-created")


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=64)
    label = models.CharField(
        pgettext_lazy("background work", "work"), max_length=200
    )  # in the owner's language at start
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=16, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)  # None: not known yet
    message = models.CharField(max_length=300, blank=True)
    upload = models.FileField(upload_to=upload_path, max_length=300, blank=True)
    outcome_url = models.CharField(max_length=500, blank=True)
    outcome_label = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to=outcome_path, max_length=300, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_type = models.CharField(max_length=100, blank=True)
    return_to = models.CharField(max_length=500, blank=True)  # where to start it again
    error = models.TextField(blank=True)  # what went wrong, in the owner's language
    problems = models.JSONField(default=list, blank=True)  # [{where, message}] of a DubanError
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)  # the django-tasks result id

    objects: ClassVar[JobQuerySet] = JobQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("background work")
        verbose_name_plural = _("background work")
        indexes = [models.Index(fields=["owner", "-created"], name="jobs_owner_recent")]

    def __str__(self) -> str:
        return f"{self.label} ({self.pk})"

    def get_absolute_url(self) -> str:
        return reverse("jobs:job", args=[self.pk])

    @property
    def finished_work(self) -> bool:
        return self.state in (State.DONE, State.FAILED)

    def percent(self) -> int | None:
        """How far, 0–100, or None while the amount of work is not known."""
        if self.state == State.DONE:
            return 100
        if not self.total:
            return None
        return min(100, self.done * 100 // self.total)

    def waiting_too_long(self, now: datetime | None = None) -> bool:
        """Still queued well after it was started: the page says the worker is not running."""
        now = now or timezone.now()
        return self.state == State.QUEUED and now - self.created > STALE_QUEUE

    def problem_list(self) -> list[dict[str, Any]]:
        return list(self.problems or [])
