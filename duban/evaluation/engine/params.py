"""Reading nested mappings (a parsed YAML scheme) while collecting every problem.

A scheme file is validated completely before anything is built, so readers
never raise: a bad field is recorded with its path (``items[3].rule.per_point``)
and a harmless placeholder is returned, and the loader raises once at the end
with the full list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from duban.errors import Problem
from duban.evaluation.engine.decimals import ZERO
from duban.evaluation.engine.explain import Text
from duban.text import gettext as _


def join(where: str, key: str | int) -> str:
    """``items`` + 3 -> ``items[3]``; ``items[3]`` + ``rule`` -> ``items[3].rule``."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def to_number(value: object) -> Decimal | None:
    """The exact number a YAML scalar stands for, or None when it is not a finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        return number if number.is_finite() else None
    return None


class Reader:
    """One mapping of the file, its path, and the shared problem list."""

    def __init__(self, data: object, where: str, problems: list[Problem]) -> None:
        self.where = where
        self.problems = problems
        self.seen: set[str] = set()
        self.item = ""  # the code of the item whose rule this is, when known (read_rule)
        if isinstance(data, Mapping):
            self.data: Mapping[Any, Any] = data
        else:
            self.data = {}
            self.problem("", _("must be a mapping"))

    def problem(self, key: str | int, message: str) -> None:
        where = join(self.where, key) if key != "" else self.where
        self.problems.append(Problem(where, message))

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str) -> Any:
        self.seen.add(key)
        return self.data.get(key)

    def sub(self, key: str) -> Reader:
        self.seen.add(key)
        return Reader(self.data.get(key), join(self.where, key), self.problems)

    def number(
        self,
        key: str,
        *,
        default: Decimal | None = None,
        required: bool = True,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        positive: bool = False,
    ) -> Decimal:
        """A required number (or its default), checked against bounds."""
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            if default is None and required:
                self.problem(key, _("is required"))
            return default if default is not None else ZERO
        number = to_number(self.data[key])
        if number is None:
            self.problem(key, _("must be a number"))
            return default if default is not None else ZERO
        if positive and number <= 0:
            self.problem(key, _("must be greater than 0"))
        if minimum is not None and number < minimum:
            self.problem(key, _("must be at least %(minimum)s") % {"minimum": minimum})
        if maximum is not None and number > maximum:
            self.problem(key, _("must be at most %(maximum)s") % {"maximum": maximum})
        return number

    def optional_number(self, key: str, *, minimum: Decimal | None = None) -> Decimal | None:
        if key not in self.data or self.data[key] is None:
            self.seen.add(key)
            return None
        return self.number(key, minimum=minimum)

    def integer(self, key: str, *, default: int | None = None, minimum: int = 0) -> int:
        self.seen.add(key)
        value = self.data.get(key)
        if value is None:
            if default is None:
                self.problem(key, _("is required"))
                return minimum
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, _("must be an integer"))
            return default if default is not None else minimum
        if value < minimum:
            self.problem(key, _("must be at least %(minimum)s") % {"minimum": minimum})
        return value

    def string(self, key: str, *, required: bool = True, default: str = "") -> str:
        self.seen.add(key)
        value = self.data.get(key)
        if value is None or value == "":
            if required:
                self.problem(key, _("is required"))
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.problem(key, _("must be text"))
            return default
        return str(value).strip()

    def boolean(self, key: str, *, default: bool) -> bool:
        self.seen.add(key)
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(key, _("must be true or false"))
            return default
        return value

    def choice(self, key: str, options: tuple[str, ...], *, default: str) -> str:
        value = self.string(key, required=False, default=default)
        if value not in options:
            self.problem(key, _("must be one of %(options)s") % {"options": ", ".join(options)})
            return default
        return value

    def text(self, key: str, *, required: bool = True) -> Text:
        """A name: plain text (Chinese) or a mapping {zh, en}."""
        self.seen.add(key)
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, _("is required"))
            return Text("")
        if isinstance(value, str):
            return Text(value.strip())
        sub = Reader(value, join(self.where, key), self.problems)
        text = Text(sub.string("zh"), sub.string("en", required=False))
        sub.done()
        return text

    def items(self, key: str, *, required: bool = True) -> Iterator[tuple[object, str]]:
        """The elements of a list with their paths; a missing optional list is empty."""
        self.seen.add(key)
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(key, _("is required"))
            return
        if not isinstance(value, list):
            self.problem(key, _("must be a list"))
            return
        for index, element in enumerate(value):
            yield element, join(join(self.where, key), index)

    def strings(self, key: str) -> tuple[str, ...]:
        """An optional list of codes."""
        found: list[str] = []
        for element, where in self.items(key, required=False):
            if isinstance(element, bool) or not isinstance(element, str | int) or element == "":
                self.problems.append(Problem(where, _("must be a code")))
            else:
                found.append(str(element))
        return tuple(found)

    def number_map(
        self, key: str, *, minimum: Decimal | None = None
    ) -> tuple[tuple[str, Decimal], ...]:
        """A required mapping code -> number, in file order."""
        self.seen.add(key)
        value = self.data.get(key)
        if not isinstance(value, Mapping) or not value:
            self.problem(key, _("must be a non-empty mapping of code: number"))
            return ()
        where = join(self.where, key)
        found: list[tuple[str, Decimal]] = []
        for code, raw in value.items():
            number = to_number(raw)
            if number is None:
                self.problems.append(Problem(join(where, str(code)), _("must be a number")))
                continue
            if minimum is not None and number < minimum:
                self.problems.append(
                    Problem(
                        join(where, str(code)),
                        _("must be at least %(minimum)s") % {"minimum": minimum},
                    )
                )
            found.append((str(code), number))
        return tuple(found)

    def done(self) -> None:
        """Report keys nobody asked for: a typo must not silently become a default."""
        for key in self.data:
            if key not in self.seen:
                self.problem(str(key), _("unknown key"))
