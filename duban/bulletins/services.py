"""Document changes: generate a draft, edit its text parts, refresh its figures, issue it,
correct it. Each runs in one transaction, asks the policy first and leaves the audit trail.

Issuing takes the next number of the issuer's series for the year and the next index
number of the issuer for the year under a lock on the series row (two offices issuing at
once get two numbers, never one twice), renders the files once and keeps them: what a
reader downloads later is byte for byte what was issued.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from duban.audit.services import record
from duban.bulletins import kinds, render
from duban.bulletins.access import require_manage
from duban.bulletins.models import (
    Bulletin,
    BulletinState,
    FileFormat,
    IssuedFile,
    Reading,
    Series,
)
from duban.bulletins.numbering import document_number, index_number
from duban.errors import DubanError, Problem
from duban.orgs.policy import person

if TYPE_CHECKING:
    from duban.meetings.models import Meeting
    from duban.orgs.policy import Actor

TITLE_MAX = 200
TEXT_MAX = 5000


class BulletinError(DubanError):
    """A document change that cannot be made; nothing was changed."""


def _refuse_issued(bulletin: Bulletin) -> None:
    if bulletin.is_issued:
        raise BulletinError(
            _("%(number)s is issued and cannot change: issue a correction instead")
            % {"number": bulletin.number}
        )


@transaction.atomic
def create_draft(
    series: Series,
    *,
    user: Actor,
    period: str,
    meeting: Meeting | None = None,
    today: date | None = None,
    corrects: Bulletin | None = None,
) -> Bulletin:
    """A new draft generated from the data of the period (or the meeting)."""
    require_manage(user, series.issuer)
    today = today or timezone.localdate()
    kind = kinds.kind(series.kind)
    source = kinds.Source(series, period.strip(), today, user, meeting)
    kind.check(source)
    bulletin = Bulletin(
        series=series,
        issuer=series.issuer,
        kind=series.kind,
        period=source.period,
        meeting=meeting,
        title=kind.title(source)[:TITLE_MAX],
        content=kind.gather(source),
        texts={},
        date_written=today,
        generated_at=timezone.now(),
        created_by=person(user),
        corrects=corrects,
    )
    if corrects is not None:
        bulletin.title = (_("Correction: %(title)s") % {"title": corrects.title})[:TITLE_MAX]
        bulletin.texts = dict(corrects.texts)
    bulletin.save()
    return bulletin


@transaction.atomic
def edit_draft(
    bulletin: Bulletin,
    *,
    user: Actor,
    title: str | None = None,
    texts: Mapping[str, str] | None = None,
    date_written: date | None = None,
) -> Bulletin:
    """Change the text parts, the title or the date written of a draft (figures stay)."""
    require_manage(user, bulletin.issuer)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    _refuse_issued(bulletin)
    problems: list[Problem] = []
    if title is not None:
        title = title.strip()
        if not title:
            problems.append(Problem("title", _("a document needs a title")))
        elif len(title) > TITLE_MAX:
            problems.append(Problem("title", _("at most %(n)d characters") % {"n": TITLE_MAX}))
    new_texts = dict(bulletin.texts)
    if texts is not None:
        known = {part.key for part in render.text_parts(bulletin)}
        for key, value in texts.items():
            if key not in known:
                problems.append(Problem(key, _("this document has no such text part")))
            elif len(value) > TEXT_MAX:
                problems.append(Problem(key, _("at most %(n)d characters") % {"n": TEXT_MAX}))
            else:
                new_texts[key] = value.replace("\r\n", "\n").strip()
    if problems:
        raise BulletinError(problems)
    if title is not None:
        bulletin.title = title
    if date_written is not None:
        bulletin.date_written = date_written
    bulletin.texts = new_texts
    bulletin.save()
    return bulletin


@transaction.atomic
def refresh_draft(bulletin: Bulletin, *, user: Actor, today: date | None = None) -> Bulletin:
    """Gather the figures again (after late reports or corrections); the texts stay."""
    require_manage(user, bulletin.issuer)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    _refuse_issued(bulletin)
    source = kinds.Source(
        bulletin.series, bulletin.period, today or timezone.localdate(), user, bulletin.meeting
    )
    bulletin.content = kinds.kind(bulletin.kind).gather(source)
    bulletin.generated_at = timezone.now()
    bulletin.save()
    return bulletin


@transaction.atomic
def delete_draft(bulletin: Bulletin, *, user: Actor) -> None:
    require_manage(user, bulletin.issuer)
    _refuse_issued(bulletin)
    bulletin.delete()


@transaction.atomic
def issue(bulletin: Bulletin, *, user: Actor) -> Bulletin:
    """Number the draft, render and keep its files, and make it immutable."""
    require_manage(user, bulletin.issuer)
    series = Series.objects.select_for_update().get(pk=bulletin.series_id)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    _refuse_issued(bulletin)
    year = bulletin.date_written.year
    numbered = Bulletin.objects.filter(issuer=bulletin.issuer, year=year)
    seq = (numbered.filter(series=series).aggregate(m=Max("seq"))["m"] or 0) + 1
    index_seq = (numbered.aggregate(m=Max("index_seq"))["m"] or 0) + 1
    bulletin.year, bulletin.seq, bulletin.index_seq = year, seq, index_seq
    bulletin.number = document_number(series.prefix, year, seq)
    bulletin.index_number = index_number(series.index_code, year, index_seq)
    bulletin.state = BulletinState.ISSUED
    bulletin.issued_at = timezone.now()
    bulletin.issued_by = person(user)
    digests = {}
    for fmt, data in render.render_all(bulletin, [f.value for f in FileFormat]).items():
        digest = hashlib.sha256(data).hexdigest()
        IssuedFile.objects.create(
            bulletin=bulletin, format=fmt, content=data, sha256=digest, size=len(data)
        )
        digests[fmt] = digest
    bulletin.save()
    record(
        "bulletins.bulletin.issued",
        obj=bulletin,
        after={
            "number": bulletin.number,
            "index_number": bulletin.index_number,
            "corrects": bulletin.corrects.number if bulletin.corrects else None,
            "sha256": digests,
        },
    )
    return bulletin


def correct(bulletin: Bulletin, *, user: Actor, today: date | None = None) -> Bulletin:
    """A new draft that corrects an issued document: the same period regenerated, the same
    texts to start from, and a reference to the number it corrects."""
    if not bulletin.is_issued:
        raise BulletinError(_("only an issued document can be corrected: edit the draft"))
    return create_draft(
        bulletin.series,
        user=user,
        period=bulletin.period,
        meeting=bulletin.meeting,
        today=today,
        corrects=bulletin,
    )


def mark_read(bulletin: Bulletin, *, user: Actor) -> None:
    """Note that a person opened an issued document (once: the first reading counts)."""
    reader = person(user)
    if reader is None or not bulletin.is_issued:
        return
    _reading, first = Reading.objects.get_or_create(user=reader, bulletin=bulletin)
    if first:
        # 阅知 is worth a line in the trail, and the entry moves the data version the kept
        # cockpit pages are keyed on, so their to-do panel and badge drop the document.
        record("bulletins.bulletin.read", obj=bulletin)
