"""The record import as background work: a large file is read, checked and written by the
worker while the page shows its progress (docs/jobs.md); the import's own page then lists
its bad rows and the decision, as for a file imported at once."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.jobs.work import Outcome, Progress, background
from duban.orgs.models import OrgUnit
from duban.records import services

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
