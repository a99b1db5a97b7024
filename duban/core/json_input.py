"""JSON that comes in: parsed once, refused whole when it holds what no field may hold.

Every API body goes through `load_json` (the NinjaAPI's parser, duban/api.py), and so may
any JSON file a reader takes in (a DHIS2 dataValueSet). A string or key with a control
character is refused naming its JSON path (`comments.case.filed`, `partners[2]`);
nesting deeper than `MAX_DEPTH` is refused before anything walks it recursively —
Python's own parser raises RecursionError past about a thousand levels, and pydantic,
the audit trail and the scoring engine each recurse too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext

from duban.errors import InputError, Problem, ProblemList
from duban.text import control_character_message, without_control_characters

# The deepest real document is a scheme rule inside an item inside a list (about 6).
MAX_DEPTH = 32


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def check_json(value: Any, *, where: str = "", max_depth: int = MAX_DEPTH) -> list[Problem]:
    """Every string and key with a control character, and every object or list nested past
    `max_depth`, each named by its JSON path below `where`; iterative, so any depth is safe."""
    problems = ProblemList()
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            message = control_character_message(item)
            if message:
                problems.append(Problem(path or "body", message))
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth >= max_depth:
            problems.append(
                Problem(
                    path or "body",
                    gettext("nested deeper than %(depth)d levels") % {"depth": max_depth},
                )
            )
            continue
        if isinstance(item, dict):
            children = []
            for key, child in item.items():
                message = control_character_message(str(key))
                if message:
                    # A key of control characters only is named by the object that holds it.
                    cleaned = without_control_characters(str(key))
                    place = _key(path, cleaned) if cleaned else path or "body"
                    problems.append(Problem(place, message))
                children.append((child, _key(path, str(key)), depth + 1))
        else:
            children = [(child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item)]
        stack.extend(reversed(children))  # popped in document order
    return problems


class _Constant(ValueError):
    """NaN or Infinity: Python's parser takes them, JSON does not, and no figure is one."""


def _no_constant(name: str) -> Any:
    raise _Constant(name)


def load_json(
    data: bytes | str,
    *,
    where: str = "body",
    max_depth: int = MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
) -> Any:
    """The parsed document, or `InputError`: not JSON (naming the line and column), nested
    too deep, or holding a control character (naming each path)."""
    try:
        doc = json.loads(data, parse_float=parse_float, parse_constant=_no_constant)
    except RecursionError:
        raise InputError(
            gettext("nested deeper than %(depth)d levels") % {"depth": max_depth}, where
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            gettext("not valid JSON: %(reason)s (line %(line)d, column %(column)d)")
            % {"reason": exc.msg, "line": exc.lineno, "column": exc.colno},
            where,
        ) from None
    except _Constant as exc:
        raise InputError(
            gettext("not valid JSON: %(word)s is not a number JSON knows") % {"word": exc},
            where,
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise InputError(gettext("not valid JSON: the text is not UTF-8"), where) from None
    problems = check_json(doc, max_depth=max_depth)
    if problems:
        raise InputError(problems)
    return doc
