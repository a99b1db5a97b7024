"""Start the recompute of a scheme's stored results (a button on the scheme's page, and
the cockpit when its months are out of date). Thin: authorise, start, redirect."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from duban.evaluation import access
from duban.evaluation.jobs import RECOMPUTE
from duban.evaluation.models import Scheme
from duban.jobs.work import start
from duban.web import AuthenticatedHttpRequest, actor


@login_required
@require_POST
def recompute(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Whoever may read the scheme's results may have them recomputed: it changes nothing
    but the stored copies of what he could compute by opening the scores."""
    scheme = get_object_or_404(Scheme.objects.select_related("issuer"), code=code)
    access.require_view(request.user, scheme)
    job = start(RECOMPUTE, user=actor(request), unit=scheme.issuer, scheme=scheme.code)
    return redirect(job)
