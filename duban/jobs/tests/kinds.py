"""Kinds of background work the tests start: counting, a refusal, a crash, a file."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from duban.audit.context import current
from duban.errors import DubanError, Problem
from duban.jobs.work import Outcome, Progress, background

SEEN: dict[str, object] = {}


@background("jobs.test.count", label=gettext_lazy("Reporting"))
def count(progress: Progress, *, steps: int) -> Outcome:
    progress.set_total(steps)
    SEEN["actor"] = current().actor
    SEEN["language_word"] = _("Home")
    for i in range(steps):
        progress.advance(message=f"step {i + 1}")
    return Outcome(url="/orgs/", label="Open the tree")


@background("jobs.test.refuse", label=gettext_lazy("Reporting"))
def refuse(progress: Progress) -> None:
    raise DubanError([Problem("B7", _("choose a file")), Problem("", _("the file is empty"))])


@background("jobs.test.crash", label=gettext_lazy("Reporting"))
def crash(progress: Progress) -> None:
    progress.set_total(3)
    progress.advance()
    raise ZeroDivisionError("boom")


@background("jobs.test.file", label=gettext_lazy("Reporting"))
def make_file(progress: Progress, *, text: str) -> Outcome:
    return Outcome(file=("report.txt", text.encode() + progress.upload(), "text/plain"))
