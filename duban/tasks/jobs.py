"""The task ledger as an Excel document made in the background (docs/jobs.md): the ledger
page hands its filters to the worker and the progress page ends with the download."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from duban.jobs.work import Outcome, Progress, background
from duban.tasks import access
from duban.tasks.ledger import filters_from, ledger_rows, ledger_xlsx
from duban.web import XLSX

KIND = "tasks.ledger_xlsx"


@background(KIND, label=gettext_lazy("Task ledger as Excel"))
def ledger_document(progress: Progress, *, query: dict[str, str]) -> Outcome:
    """The same rows and sheet as the direct download, for the tasks the owner may see."""
    progress.set_total(2)
    filters, today = filters_from(progress.user, query)
    rows = ledger_rows(access.visible_tasks(progress.user), today, filters)
    n = len(rows)
    read = ngettext(
        "%(n)d task read; writing the sheet…", "%(n)d tasks read; writing the sheet…", n
    )
    progress.advance(message=read % {"n": n})
    invented = any(r.task.issuing_unit.is_demo for r in rows)
    data = ledger_xlsx(rows, today, _("Task ledger as of %(d)s") % {"d": today}, invented=invented)
    written = ngettext("%(n)d task in the sheet.", "%(n)d tasks in the sheet.", n)
    progress.advance(message=written % {"n": n})
    return Outcome(file=(f"ledger-{today.isoformat()}.xlsx", data, XLSX))
