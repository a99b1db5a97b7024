"""The API for long work: register a kind, start it, report progress, end with an outcome.

    @background("evaluation.recompute", label=gettext_lazy("Recompute scores"))
    def recompute(progress: Progress, *, scheme: str) -> Outcome:
        progress.set_total(12)
        for ...: progress.advance(message=...)
        return Outcome(url=reverse(...), label=_("Open the scores"))

    job = start("evaluation.recompute", user=actor, unit=unit, scheme="YZ-2017")
    return redirect(job)                        # the progress page, /jobs/<id>/

`start` stores a `Job` row and enqueues one django-tasks task, `run_job(job_id)`, that takes
only the primary key (STYLE.md: background work takes primary keys). The worker (`duban
worker`) runs the registered function in the owner's language and as the owner, so the
audit trail names him. A `DubanError` ends the job as failed with its problems; anything
else ends it as failed with a number to give the administrator, and is logged with its
traceback. Apps above jobs register their kinds in their own `jobs.py`, imported by their
AppConfig.ready so the worker knows every kind.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.files.base import ContentFile
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django_tasks import task

from duban.audit.context import acting_as
from duban.core.acting import as_user
from duban.errors import DubanError
from duban.jobs.models import Job, State
from duban.logs import fields

if TYPE_CHECKING:
    from duban.accounts.models import User
    from duban.orgs.models import OrgUnit

log = logging.getLogger(__name__)

# Progress is written when a hundredth more of the work is done, or this long after the last
# write, and always at the last step: a loop over 50,000 rows that advances per row costs a
# few hundred updates, not 50,000, and a job of twelve steps shows every one.
WRITE_EVERY = 0.25  # seconds
WRITE_SHARE = 100


@dataclass(frozen=True)
class Outcome:
    """How a job ended well: a page to open (`url`, `label`) or a file to download
    (`file` = (name, content, content type)); neither is a plain "done"."""

    url: str = ""
    label: str = ""
    file: tuple[str, bytes, str] | None = None


JobFunction = Callable[..., "Outcome | None"]
Fn = TypeVar("Fn", bound=JobFunction)


@dataclass(frozen=True)
class Kind:
    name: str
    label: str | Promise
    function: JobFunction


KINDS: dict[str, Kind] = {}


def background(name: str, *, label: str | Promise) -> Callable[[Fn], Fn]:
    """Register `function(progress, **params)` as the kind of work `name` (dotted, app first)."""

    def register(function: Fn) -> Fn:
        existing = KINDS.get(name)
        if existing is not None and existing.function is not function:
            module = f"{existing.function.__module__}.{existing.function.__qualname__}"
            raise ValueError(f"background work {name!r} is already registered by {module}")
        KINDS[name] = Kind(name, label, function)
        return function

    return register


class Progress:
    """What a job function reports through: how much there is, how far it is, what now."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._written = 0.0
        self._written_done = job.done

    @property
    def user(self) -> User:
        """The person who started the work; the function acts as him."""
        return self.job.owner

    @property
    def unit(self) -> OrgUnit | None:
        return self.job.unit

    def upload(self) -> bytes:
        """The file handed to `start(..., upload=...)` (an import), read whole."""
        with self.job.upload.open("rb") as fh:
            return fh.read()

    def set_total(self, total: int) -> None:
        self.job.total = max(0, total)
        self._write(force=True)

    def advance(self, step: int = 1, *, message: str | Promise = "") -> None:
        self.job.done += step
        if message:
            self.job.message = str(message)[:300]
        last = self.job.total is not None and self.job.done >= self.job.total
        self._write(force=last)

    def say(self, message: str | Promise) -> None:
        """A new message without a step ("checking the rows…")."""
        self.job.message = str(message)[:300]
        self._write(force=True)

    def _write(self, *, force: bool) -> None:
        now, j = time.monotonic(), self.job
        share = j.total is not None and (j.done - self._written_done) * WRITE_SHARE >= j.total
        if not (force or share or now - self._written >= WRITE_EVERY):
            return
        self._written, self._written_done = now, j.done
        Job.objects.filter(pk=j.pk).update(done=j.done, total=j.total, message=j.message)


def start(
    kind: str,
    *,
    user: User,
    unit: OrgUnit | None = None,
    upload: tuple[str, bytes] | None = None,
    return_to: str = "",
    **params: Any,
) -> Job:
    """Record the job and enqueue it; the caller redirects to it. `params` must be JSON
    (codes and primary keys, not objects); `upload` = (name, content) is a file it reads;
    `return_to` is the page to start it again from if it fails."""
    registered = KINDS.get(kind)
    if registered is None:
        raise LookupError(f"no background work is registered as {kind!r}")
    json.dumps(params)  # a TypeError here, in the request, not later in the worker
    job = Job(
        kind=kind,
        label=str(registered.label)[:200],
        owner=user,
        unit=unit,
        params=params,
        return_to=return_to[:500],
        language=translation.get_language() or "",
    )
    if upload is not None:
        name, content = upload
        job.upload.save(name, ContentFile(content), save=False)
    job.save()
    result = run_job.enqueue(str(job.pk))
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])
    job.task_id = str(result.id)[:64]
    log.info("job queued", extra=fields(job=job.pk, kind=kind))
    # The immediate backend (tests) has run it already; the caller sees the row as it is.
    job.refresh_from_db()
    return job


@task()
def run_job(job_id: str) -> None:
    """Run one job once, by its primary key; a second delivery of the same job does nothing."""
    claimed = Job.objects.filter(pk=job_id, state=State.QUEUED).update(
        state=State.RUNNING, started=timezone.now()
    )
    if not claimed:
        log.warning("job not queued, not run", extra=fields(job=job_id))
        return
    job = Job.objects.select_related("owner", "unit").get(pk=job_id)
    language = job.language or None
    with translation.override(language), acting_as(source="duban worker"), as_user(job.owner):
        _run(job)


def _run(job: Job) -> None:
    kind = KINDS.get(job.kind)
    started = time.perf_counter()
    try:
        if kind is None:
            raise LookupError(f"no background work is registered as {job.kind!r}")
        outcome = kind.function(Progress(job), **job.params)
    except DubanError as exc:
        problems = [{"where": p.where, "message": str(p.message)} for p in exc.shown()]
        _end(job, State.FAILED, error=str(exc), problems=problems)
        log.info("job refused", extra=fields(job=job.pk, kind=job.kind, problems=exc.total))
    except Exception:
        log.exception("job crashed", extra=fields(job=job.pk, kind=job.kind))
        error = _(
            "Something went wrong; try again, or give the system administrator this number: %(id)s"
        ) % {"id": job.pk}
        _end(job, State.FAILED, error=error)
    else:
        _finish(job, outcome or Outcome())
        seconds = round(time.perf_counter() - started, 3)
        log.info("job done", extra=fields(job=job.pk, kind=job.kind, seconds=seconds))


def _finish(job: Job, outcome: Outcome) -> None:
    if outcome.file is not None:
        name, content, content_type = outcome.file
        job.file.save(name, ContentFile(content), save=False)
        job.file_name = name[:200]
        job.file_type = content_type[:100]
    job.outcome_url = outcome.url[:500]
    job.outcome_label = str(outcome.label)[:200]
    if job.total is not None:
        job.done = job.total
    _end(job, State.DONE)


def _end(job: Job, state: State, *, error: str = "", problems: list[Any] | None = None) -> None:
    """Write the end in one update of the row (the page may be reading it)."""
    job.state = state
    job.error = error
    job.problems = problems or []
    job.finished = timezone.now()
    job.save(
        update_fields=[
            "state",
            "error",
            "problems",
            "finished",
            "done",
            "total",
            "message",
            "file",
            "file_name",
            "file_type",
            "outcome_url",
            "outcome_label",
        ]
    )
