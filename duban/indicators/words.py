"""Indicators' settings in words: reporting levels and kinds by their names, a validation
rule's condition with indicator names in place of codes (立案数 ≥ 破案数)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _

from duban.orgs.models import Kind, Level

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z_]|<=|>=|==|!=|<|>")


def levels_in_words(levels: Iterable[str]) -> str:
    names = dict(Level.choices)
    return "、".join(str(names.get(level, level)) for level in levels) or "—"


def kinds_in_words(kinds: Iterable[str]) -> str:
    names = dict(Kind.choices)
    return "、".join(str(names.get(kind, kind)) for kind in kinds) or "—"


def condition_in_words(expression: str, names: Mapping[str, str]) -> str:
    """The condition as a reader says it: each indicator by its name, ≤ ≥ = ≠ for the
    operators, 且/或/非 for and/or/not; a word that is no known code stays as written."""
    words = {
        "<=": "≤",
        ">=": "≥",
        "==": "=",
        "!=": "≠",
        "and": _("and"),
        "or": _("or"),
        "not": _("not"),
    }

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in names:
            return names[token]
        return words.get(token, token)

    return _TOKEN.sub(one, expression)
