"""The shape every rejected input takes: a list of problems, each naming where it is.

Apps raise their own subclass of `DubanError`; the API turns it into a 4xx
JSON body and pages show the list beside the form.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One bad thing in the input: `where` is a field name, `line 7`, `B12`, …"""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class DubanError(Exception):
    """A request that cannot be carried out; nothing was changed."""

    status = 400

    def __init__(self, problems: list[Problem] | str, where: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(where, problems)]
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))

    def as_json(self) -> dict[str, object]:
        return {"detail": str(self), "errors": [asdict(p) for p in self.problems]}


class ConflictError(DubanError):
    """The request is valid but the data's state forbids it (approved, locked, …)."""

    status = 409


def add_problems(form: Any, exc: DubanError, *, rest_to_form: bool = False) -> list[Problem]:
    """Put each problem beside its form field; return the others (or, with `rest_to_form`,
    add them to the form's non-field errors and return nothing)."""
    rest = []
    for p in exc.problems:
        if form is not None and p.where in form.fields:
            form.add_error(p.where, p.message)
        elif rest_to_form and form is not None:
            form.add_error(None, str(p))
        else:
            rest.append(p)
    return rest
