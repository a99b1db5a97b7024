"""Control characters: refused where text comes in, removed where text goes out.

C0 controls other than tab, line feed and carriage return, DEL and the C1 range are
never part of a name, a comment or a title. XML 1.0 (xlsx, docx) cannot hold most of
them at all, so one stored `\\x05` would break every export that carries it.
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
