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


def gettext(message: str) -> str:
    """Django's gettext, imported when called: the plain modules that use this one (the
    scoring engine's files, periods, the formula language) import no Django at import
    time. Without Django settings (a script using periods alone) the English msgid."""
    from django.conf import settings

    if not settings.configured:
        return message
    from django.utils.translation import gettext as translate

    return translate(message)


class UndecodableText(ValueError):
    """Bytes that are neither UTF-8 nor GB18030; `line` is where the first bad byte is."""

    def __init__(self, name: str, line: int) -> None:
        self.name = name
        self.line = line
        if name:
            message = gettext(
                "the file %(name)s is neither UTF-8 nor GB18030 text (the encodings Excel "
                "saves in): the first byte neither can read is on line %(line)d; save it as "
                "CSV UTF-8 and try again"
            )
        else:
            message = gettext(
                "the file is neither UTF-8 nor GB18030 text (the encodings Excel saves in): "
                "the first byte neither can read is on line %(line)d; save it as CSV UTF-8 "
                "and try again"
            )
        super().__init__(message % {"name": name, "line": line})


def decode_text(data: bytes | str, name: str = "") -> str:
    """Uploaded or read text: UTF-8 with or without a BOM, else GB18030 (what Excel in China
    saves as "CSV"). GB18030 reads most byte pairs, so UTF-8 is tried first. Bytes neither
    reads raise `UndecodableText` naming `name` and the line of the first bad byte in the
    encoding that read further (the one the file was most likely meant to be in)."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as gb:
            bad = max(utf8.start, gb.start)
            raise UndecodableText(name, data.count(b"\n", 0, bad) + 1) from None


def ngettext(singular: str, plural: str, number: int) -> str:
    """Django's ngettext, imported when called (as `gettext`)."""
    from django.conf import settings

    if not settings.configured:
        return singular if number == 1 else plural
    from django.utils.translation import ngettext as translate

    return translate(singular, plural, number)


_PLACE = re.compile(r"^(line|row) (\d+)(?:, column (\d+))?( \(.+\))?$")


def where_in_words(where: str) -> str:
    """A problem's place ("line 7", "row 3, column 2 (value)", "file") in the reader's
    language. The place stays English in the data (the API's `where`, which programs key
    on); pages show it through this."""
    if where == "file":
        return gettext("file")
    match = _PLACE.match(where)
    if match is None:
        return where  # a cell (H6), a field name, a JSON path: the same in every language
    kind, number, column, name = match.groups()
    place = (gettext("line %(n)s") if kind == "line" else gettext("row %(n)s")) % {"n": number}
    if column:
        place = gettext("%(place)s, column %(column)s") % {"place": place, "column": column}
    return place + (name or "")


def period_in_words(period_id: str) -> str:
    """A reporting period as people say it: 2026年12月2日, 2026年第48周, 2017年10月,
    2017年第1季度, 2017年上半年, 2017年 (and their English); anything else as given."""
    from duban.periods import PeriodType, parse_period

    try:
        period = parse_period(period_id)
    except ValueError:
        return period_id
    year, kind, rest = period.year, period.type, period.id[4:]
    if kind is PeriodType.DAILY:
        return gettext("%(year)s month %(month)s day %(day)s") % {
            "year": year, "month": period.start.month, "day": period.start.day,
        }  # fmt: skip
    if kind is PeriodType.WEEKLY:
        return gettext("%(year)s week %(week)s") % {"year": year, "week": int(rest.lstrip("W"))}
    if kind is PeriodType.MONTHLY:
        return gettext("%(year)s month %(month)s") % {"year": year, "month": int(rest)}
    if kind is PeriodType.QUARTERLY:
        return gettext("%(year)s quarter %(n)s") % {"year": year, "n": rest[1:]}
    if kind is PeriodType.SIXMONTHLY:
        half = gettext("first half") if rest == "S1" else gettext("second half")
        return gettext("%(year)s %(half)s") % {"year": year, "half": half}
    if kind is PeriodType.YEARLY:
        return gettext("%(year)s (year)") % {"year": year}
    return period_id
