"""Background work of the evaluation: recompute a scheme's stored results.

Registered with ``duban.jobs`` when the app is ready (``EvaluationConfig.ready``), so the
worker knows it. The work takes the scheme's code, scores every month, quarter, half and
the year, and stores each (``cache.store``); running it twice does no harm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.evaluation import access, cache
from duban.evaluation.models import Scheme
from duban.jobs.models import Job, State
from duban.jobs.work import Outcome, Progress, background, start

if TYPE_CHECKING:
    from duban.accounts.models import User

RECOMPUTE = "evaluation.recompute"


@background(RECOMPUTE, label=gettext_lazy("Recompute scores"))
def recompute(progress: Progress, *, scheme: str) -> Outcome:
    """Every period of the scheme's year, each stored with the stamp read before it began
    (a figure approved meanwhile leaves the entries stale, to be redone, never wrong)."""
    found = get_object_or_404(Scheme.objects.select_related("issuer"), code=scheme)
    access.require_view(progress.user, found)
    periods = cache.year_periods(found)
    stamp = cache.input_stamp(found)
    progress.set_total(len(periods))
    for period in periods:
        cache.store(found, period, stamp)
        progress.advance(message=_("%(period)s scored") % {"period": period})
    return Outcome(url=reverse("evaluation:scores", args=[found.code]), label=_("Open the scores"))


def ensure_recompute(scheme: Scheme, *, user: User) -> Job:
    """The recompute of this scheme already queued or running, or a new one: a page that
    finds stale results asks for it on every view, and one is enough."""
    found = (
        Job.objects.filter(
            kind=RECOMPUTE, state__in=[State.QUEUED, State.RUNNING], params__scheme=scheme.code
        )
        .order_by("-created")
        .first()
    )
    return found or start(RECOMPUTE, user=user, unit=scheme.issuer, scheme=scheme.code)
