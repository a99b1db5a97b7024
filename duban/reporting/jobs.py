"""The values import as background work: a large file is read, checked and written by the
worker while the page shows its progress (docs/jobs.md). All or nothing, as on the page:
the one `import_file` service does the work, its problems end the job as failed."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.jobs.work import Outcome, Progress, background
from duban.reporting import importing

KIND = "reporting.import"
# Above this a file goes to the worker. Bytes, not rows: known before the file is read.
# About 2,000 CSV rows (≈ 30 bytes each); smaller files are done within the request in
# well under a second, and their problems shown at once beside the form.
BACKGROUND_BYTES = 64_000


def goes_to_background(size: int) -> bool:
    """Whether an upload of `size` bytes is imported by the worker rather than at once."""
    return size > getattr(settings, "DUBAN_IMPORT_BACKGROUND_BYTES", BACKGROUND_BYTES)


@background(KIND, label=gettext_lazy("Import figures"))
def import_values(progress: Progress, *, fmt: str, name: str) -> Outcome:
    """Read, check and write the uploaded file; the whole file or nothing."""
    progress.say(_("Reading and checking %(name)s…") % {"name": name})
    result = importing.import_file(progress.upload(), fmt, user=progress.user)
    progress.say(
        _(
            "Imported %(rows)d rows: %(created)d figures added, %(updated)d changed, "
            "%(unchanged)d unchanged."
        )
        % result.as_dict()
    )
    return Outcome(url=reverse("reporting:import"), label=_("Import another file"))
