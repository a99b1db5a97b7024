"""The shape every rejected input takes: a list of problems, each naming where it is.

Apps raise their own subclass of `DubanError`; the API turns it into a 4xx
JSON body and pages show the list beside the form. However many problems a file
has, only the first `SHOWN_PROBLEMS` are rendered, followed by how many more there
are: a 17 MB file of bad rows must not become a 70 MB answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, SupportsIndex

# Nobody reads past the first problems: they show what is wrong with the file. The same
# number as reporting.errors.MAX_PROBLEMS, which its readers keep (and count the rest).
SHOWN_PROBLEMS = 1000


@dataclass(frozen=True)
class Problem:
    """One bad thing in the input: `where` is a field name, `line 7`, `B12`, …"""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ProblemList(list[Problem]):
    """A list of problems that keeps the first `limit` and only counts the rest.

    Readers collect into one instead of a plain list so that a file with a million bad
    rows costs memory for `limit` problems; `DubanError` reads `omitted` to say how many
    more there were.
    """

    def __init__(self, items: Iterable[Problem] = (), *, limit: int = SHOWN_PROBLEMS) -> None:
        super().__init__()
        self.limit = limit
        self.omitted = 0
        self.extend(items)

    def append(self, problem: Problem) -> None:
        if len(self) < self.limit:
            super().append(problem)
        else:
            self.omitted += 1

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.append(p)

    def insert(self, index: SupportsIndex, problem: Problem) -> None:
        super().insert(index, problem)
        if len(self) > self.limit:
            super().pop()
            self.omitted += 1

    def __iadd__(self, problems: Iterable[Problem]) -> ProblemList:  # type: ignore[override,misc]
        self.extend(problems)
        return self

    def __bool__(self) -> bool:
        return len(self) > 0 or self.omitted > 0

    @property
    def total(self) -> int:
        return len(self) + self.omitted


class DubanError(Exception):
    """A request that cannot be carried out; nothing was changed."""

    status = 400

    def __init__(
        self, problems: Sequence[Problem] | str, where: str = "", *, omitted: int = 0
    ) -> None:
        if isinstance(problems, str):
            problems = [Problem(where, problems)]
        # Problems a ProblemList counted without keeping, plus any the caller counted.
        self.omitted = omitted + getattr(problems, "omitted", 0)
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.shown())

    @property
    def total(self) -> int:
        """How many problems the input had, shown or not."""
        return len(self.problems) + self.omitted

    def shown(self) -> list[Problem]:
        """The problems to render: the first `SHOWN_PROBLEMS`, then one saying how many more.
        A line in place of one problem would say less than the problem: one over is shown
        (so a list a reader already cut to the limit plus its own count line stays whole)."""
        if not self.omitted and len(self.problems) <= SHOWN_PROBLEMS + 1:
            return list(self.problems)
        kept = self.problems[:SHOWN_PROBLEMS]
        more = self.total - len(kept)
        from django.utils.translation import ngettext

        summary = ngettext("… and %(n)d more problem", "… and %(n)d more problems", more) % {
            "n": more
        }
        return [*kept, Problem("", summary)]

    def as_json(self) -> dict[str, object]:
        return {"detail": str(self), "errors": [asdict(p) for p in self.shown()]}


class ConflictError(DubanError):
    """The request is valid but the data's state forbids it (approved, locked, …)."""

    status = 409


class InputError(DubanError):
    """Input no field may hold, whatever the form: a control character, `null` where a
    value is required, JSON nested past any real document. Raised by the checks every
    save and every API body go through (duban.core.saving, duban.core.json_input)."""


def add_problems(form: Any, exc: DubanError, *, rest_to_form: bool = False) -> list[Problem]:
    """Put each problem beside its form field; return the others (or, with `rest_to_form`,
    add them to the form's non-field errors and return nothing)."""
    rest = []
    for p in exc.shown():
        if form is not None and p.where in form.fields:
            form.add_error(p.where, p.message)
        elif rest_to_form and form is not None:
            form.add_error(None, str(p))
        else:
            rest.append(p)
    return rest


def clean_problems(obj: Any, **full_clean: Any) -> list[Problem]:
    """The problems `obj.full_clean(**full_clean)` finds, each naming its field ("" for the
    whole row): the one way a service turns Django's ValidationError into Problems."""
    from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

    try:
        obj.full_clean(**full_clean)
    except ValidationError as exc:
        return [
            Problem("" if field == NON_FIELD_ERRORS else field, str(message))
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return []
