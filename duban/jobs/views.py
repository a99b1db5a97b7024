"""The progress page of one job, its polled fragment, its file, and one's recent work.

Only the owner opens a job: anyone else gets 404, as if it did not exist (a job's id in a
link someone forwarded says nothing about its work).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from duban.jobs.models import Job, State
from duban.web import AuthenticatedHttpRequest, actor, stored_file

RECENT = 30


def _own_job(request: AuthenticatedHttpRequest, job_id: str) -> Job:
    return get_object_or_404(Job.objects.owned_by(actor(request)), pk=job_id)


@login_required
@require_GET
def job(request: AuthenticatedHttpRequest, job_id: str) -> HttpResponse:
    return render(request, "jobs/job.html", {"job": _own_job(request, job_id)})


@login_required
@require_GET
def progress(request: AuthenticatedHttpRequest, job_id: str) -> HttpResponse:
    """The fragment htmx polls every second; once the job has ended it stops polling."""
    return render(request, "jobs/progress.html", {"job": _own_job(request, job_id)})


@login_required
@require_GET
def file(request: AuthenticatedHttpRequest, job_id: str) -> HttpResponseBase:
    job_ = _own_job(request, job_id)
    if job_.state != State.DONE or not job_.file:
        raise Http404
    response = stored_file(job_.file.open("rb"), job_.file_name or "download")
    if job_.file_type:
        response["Content-Type"] = job_.file_type
    return response


@login_required
@require_GET
def job_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    jobs = Job.objects.owned_by(actor(request)).recent()[:RECENT]
    return render(request, "jobs/list.html", {"jobs": jobs})
