"""Background work of the records app: recompute the proposed figures of record indicators.

Registered with ``duban.jobs`` when the app is ready (``RecordsConfig.ready``). The work
calls the one service, `proposals.recompute_record_indicators`, as the person who started it;
running it twice does no harm (the second run changes nothing).
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.jobs.work import Outcome, Progress, background
from duban.records import proposals

RECOMPUTE = "records.recompute"


@background(RECOMPUTE, label=gettext_lazy("Recompute the proposed figures from the records"))
def recompute(
    progress: Progress,
    *,
    indicators: list[str] | None = None,
    start: str = "",
    end: str = "",
) -> Outcome:
    """`indicators`: codes (default: every active record indicator); `start`/`end`: ISO
    dates of the window (default: the records' first and last day)."""
    progress.say(_("Counting the business records…"))
    result = proposals.recompute_record_indicators(
        user=progress.user,
        indicators=proposals.record_indicators(indicators) if indicators else None,
        start=date.fromisoformat(start) if start else None,
        end=date.fromisoformat(end) if end else None,
    )
    progress.say(summary(result))
    return Outcome()


def summary(result: proposals.RecomputeResult) -> str:
    return _(
        "Proposed figures recomputed for %(indicators)d indicators over %(periods)d periods: "
        "%(created)d added, %(updated)d changed, %(deleted)d removed."
    ) % {
        "indicators": len(result.indicators),
        "periods": result.periods,
        "created": result.created,
        "updated": result.updated,
        "deleted": result.deleted,
    }
