"""Control characters: refused where text comes in, removed where text goes out.

C0 controls other than tab, line feed and carriage return, DEL and the C1 range are
never part of a name, a comment or a title. XML 1.0 (xlsx, docx) cannot hold most of
them at all, so one stored `\\x05` would break every export that carries it.

Plain module (no Django at import): the scoring engine's files use it through
`duban.spreadsheets`.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def first_control_character(text: str) -> str | None:
    """The first control character in `text` as `U+0005`, or None when there is none."""
    found = CONTROL_CHARACTERS.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def without_control_characters(text: str) -> str:
    """`text` with every control character removed (for exports of data stored before the
    input check, or written behind the application's back)."""
    return CONTROL_CHARACTERS.sub("", text)


def control_character_message(text: str) -> str | None:
    """The refusal for `text` in the user's language, naming its first control character;
    None when it has none. The one wording every input check uses."""
    char = first_control_character(text)
    if char is None:
        return None
    from django.utils.translation import gettext

    return gettext("contains the invisible control character %(char)s; delete it and try again") % {
        "char": char
    }
