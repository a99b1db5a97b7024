"""The kinds of document (monthly bulletin, quarterly review, dispatch brief): one shape each.

A kind gathers its figures from the data into a JSON snapshot (``gather``), offers the text
parts the office may edit with their generated defaults (``texts``), and composes the
snapshot and the edited texts into one ``OfficialDocument`` (``compose``) that every writer
lays out. Gathering runs once per draft (and on "refresh figures"); composing is plain and
runs on every view, so an edit never recomputes a score and an issued document, composed from
its frozen snapshot, reads the same for ever. Adding a kind means copying one module and
registering it (healthchecks' integrations).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext as _

from duban.documents.model import OfficialDocument

if TYPE_CHECKING:
    from duban.bulletins.models import Bulletin, Series
    from duban.meetings.models import Meeting
    from duban.orgs.policy import Actor

Json = dict[str, Any]


@dataclass(frozen=True)
class Source:
    """What a document is generated from: its series, the period or meeting, the day."""

    series: Series
    period: str  # a period id (201711, 2017Q4); for a dispatch brief the meeting's day
    today: date
    user: Actor
    meeting: Meeting | None = None


@dataclass(frozen=True)
class TextPart:
    """A part of the document the office writes (or edits from its generated default)."""

    key: str
    label: str
    default: str
    rows: int = 4  # the height of its box on the edit page


class Kind(ABC):
    """One kind of document. Subclasses set ``code`` (a ``DocumentKind`` value)."""

    code: ClassVar[str]

    @abstractmethod
    def title(self, source: Source) -> str:
        """The document's generated title (关于2017年11月…的通报)."""

    @abstractmethod
    def gather(self, source: Source) -> Json:
        """Every figure and table the document prints, as JSON (exact decimals as strings)."""

    @abstractmethod
    def texts(self, content: Json) -> list[TextPart]:
        """The editable text parts, their defaults pre-filled from the figures."""

    @abstractmethod
    def compose(self, bulletin: Bulletin, texts: Mapping[str, str]) -> OfficialDocument:
        """The document: ``bulletin.content`` and the texts, with the series' header fields."""

    def check(self, source: Source) -> None:  # noqa: B027 (most kinds accept any period)
        """Refuse, naming the field, a period or meeting this kind cannot be made for."""


_KINDS: dict[str, Kind] = {}


def register(cls: type[Kind]) -> type[Kind]:
    if cls.code in _KINDS:
        raise ValueError(f"document kind {cls.code!r} registered twice")
    _KINDS[cls.code] = cls()
    return cls


def kind(code: str) -> Kind:
    return _KINDS[code]


def registered() -> list[str]:
    return list(_KINDS)


INVENTED_NOTE = "演示数据均为虚构"


def document(
    bulletin: Bulletin, body: list[Any], *, notes: tuple[str, ...] = ()
) -> OfficialDocument:
    """The document around a kind's body: the series' header and footer fields, the number
    and date once issued, and a demo's note that its figures are invented."""
    series = bulletin.series
    invented = bool(bulletin.content.get("invented"))
    corrects = (
        (_("This document corrects %(number)s.") % {"number": bulletin.corrects.number},)
        if bulletin.corrects_id and bulletin.corrects
        else ()
    )
    return OfficialDocument(
        authority=series.authority,
        title=bulletin.title,
        body=body,
        signature=series.authority,
        date_written=bulletin.date_written,
        number=bulletin.number or None,
        addressees=series.addressees,
        copy_to=series.copy_to,
        printed_by=series.authority if bulletin.is_issued else "",
        printed_on=bulletin.date_written if bulletin.is_issued else None,
        index_number=bulletin.index_number,
        category=series.category,
        notes=(*notes, *corrects, *((INVENTED_NOTE,) if invented else ())),
        draft=not bulletin.is_issued,
    )
