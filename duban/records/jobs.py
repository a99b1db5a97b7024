"""Background work of the records app: a large record file imported by the worker (its page
shows the progress, docs/jobs.md; the import's own page then lists its bad rows and the
decision), and the proposed figures of record indicators recomputed from the records.

Registered with ``duban.jobs`` when the app is ready (``RecordsConfig.ready``). Each calls the
one service as the person who started it; a recompute run twice does no harm (the second run
changes nothing).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.jobs.work import Outcome, Progress, background
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.records import proposals, services

KIND = "records.import"
# Above this a file goes to the worker: about 100,000 records (≈ 60 bytes each), which the
# request checks and writes in a few seconds; a larger one would outlast a proxy's patience.
BACKGROUND_BYTES = 6_000_000


def goes_to_background(size: int) -> bool:
    """Whether an upload of `size` bytes is imported by the worker rather than at once."""
    return size > int(getattr(settings, "DUBAN_RECORDS_BACKGROUND_BYTES", BACKGROUND_BYTES))


@background(KIND, label=gettext_lazy("Import business records"))
def import_records(progress: Progress, *, unit_code: str, name: str) -> Outcome:
    """Check the uploaded file and apply it if no row is bad; its page shows the rest."""
    progress.say(_("Reading and checking %(name)s…") % {"name": name})
    unit = OrgUnit.objects.get(code=unit_code)
    with tempfile.NamedTemporaryFile(prefix="duban-records-job-") as tmp:
        with progress.job.upload.open("rb") as fh:
            shutil.copyfileobj(fh, tmp, 1 << 20)
        tmp.flush()
        imp = services.import_file(Path(tmp.name), name=name, user=progress.user, unit=unit)
    return Outcome(url=reverse("records:detail", args=[imp.pk]), label=_("Open the import"))


RECOMPUTE = "records.recompute"


@background(RECOMPUTE, label=gettext_lazy("Recompute the proposed figures from the records"))
def recompute(
    progress: Progress,
    *,
    indicators: list[str] | None = None,
    start: str = "",
    end: str = "",
    after_import: int | None = None,
) -> Outcome:
    """`indicators`: codes (default: every active record indicator); `start`/`end`: ISO
    dates of the window (default: the records' first and last day); `after_import`: the
    import whose new records started it (then it runs as the system)."""
    progress.say(_("Counting the business records…"))
    # After an import the proposals follow the records as derived data, whoever imported
    # them: an office may import its subtree's records without managing the indicators.
    result = proposals.recompute_record_indicators(
        user=SYSTEM if after_import else progress.user,
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
