"""The reporting app's one error type, its 409 form for data whose state forbids a write, and
the 409 of a save made from an older version of the form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from duban.errors import SHOWN_PROBLEMS, ConflictError, DubanError, Problem, ProblemList


class ReportingError(DubanError):
    """A figure, form or file that cannot be accepted; nothing was changed."""


class ReportingConflict(ReportingError, ConflictError):
    """The input is fine but the data is submitted, approved, locked or closed for entry."""


MAX_PROBLEMS = SHOWN_PROBLEMS  # kept per refusal; the rest are only counted


class Problems:
    """Collected problems; the status follows their kind when they are all of one kind:
    403 when every row is outside the user's reach, 409 when every row is settled data.

    The first MAX_PROBLEMS are kept and the rest counted (`ProblemList`): a file of half a
    million bad rows is refused with the first thousand and a count, in bounded memory and
    a small answer."""

    def __init__(self) -> None:
        self.items = ProblemList(limit=MAX_PROBLEMS)
        self.conflicts = 0
        self.denials = 0
        self.denied: set[str] = set()

    @property
    def count(self) -> int:
        return self.items.total

    def add(self, where: str, message: str, *, conflict: bool = False) -> None:
        self.items.append(Problem(where, message))
        self.conflicts += conflict

    def deny(self, where: str, unit: str) -> None:
        self.add(where, _("you may not enter figures for %(unit)s") % {"unit": unit})
        self.denials += 1
        self.denied.add(unit)

    def raise_if_any(self) -> None:
        if not self.count:
            return
        if self.denials == self.count:
            raise PermissionDenied(
                _("you may not enter figures for %(denied)s")
                % {"denied": ", ".join(sorted(self.denied))}
            )
        if self.conflicts == self.count:
            raise ReportingConflict(self.items)
        raise ReportingError(self.items)


@dataclass(frozen=True)
class ChangedFigure:
    """A figure someone changed after the version a writer read the form at."""

    indicator: str
    name: str
    value: Decimal | None
    comment: str
    by: str
    at: datetime

    @property
    def value_text(self) -> str:
        from duban.indicators.models import fmt

        return fmt(self.value)


class VersionConflict(ReportingConflict):
    """The form changed since the writer read it (a lost update prevented): nothing was
    written. Each problem names a figure changed since, with its value now and who changed it."""

    def __init__(self, changed: list[ChangedFigure], *, seen: int, version: int) -> None:
        self.changed = changed
        self.seen = seen
        self.version = version
        problems = [
            Problem(
                c.indicator,
                _("%(who)s changed it to %(value)s at %(at)s, after you opened the form")
                % {
                    "who": c.by,
                    "value": c.value_text or _("(empty)"),
                    "at": formats.date_format(timezone.localtime(c.at), "Y-m-d H:i"),
                },
            )
            for c in changed
        ] or [
            Problem(
                "version",
                _("the form was changed after you opened it (version %(seen)d, now %(now)d)")
                % {"seen": seen, "now": version},
            )
        ]
        super().__init__(problems)

    def as_json(self) -> dict[str, object]:
        return {
            **super().as_json(),
            "version": self.version,
            "changed": [
                {
                    "indicator": c.indicator,
                    "value": None if c.value is None else c.value_text,
                    "comment": c.comment,
                    "by": c.by,
                    "at": c.at.isoformat(),
                }
                for c in self.changed
            ],
        }


def user_name(user: object) -> str:
    """Who changed a figure, as people know him; the system where no account did."""
    return str(user) if user is not None else _("the system")
