"""What a Chinese reader should never meet on a page: ASCII identifiers (codes, English
tokens, field names) outside the places where a person types or reads codes.

`ascii_identifiers(html)` reads a rendered page as a person sees it (no scripts, styles,
attributes or hidden inputs) and returns the ASCII words left in its text once the allowed
ones (file formats, units, product and language names) and the code columns (elements marked
`class="code"`, `<code>`, `<kbd>`, `<pre>`, form inputs, and text marked `lang="en"`: a
unit's English name is data, not an interface word) are taken away.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Words an office reads in Chinese software every day.
ALLOWED = frozenset({
    "PDF", "DOCX", "XLSX", "XLS", "CSV", "JPEG", "JPG", "PNG", "ZIP", "Excel", "Word", "WPS", "OK",
    "API", "JSON", "YAML",
    "HTML", "URL", "ID", "No", "English", "DHIS2", "GB", "GBT", "GB/T", "MLPS", "TOTP", "SMS",
    "Email", "IP", "Chrome", "Chromium", "A4", "UTF-8", "GB18030", "Parquet", "KB", "MB", "km", "kg", "h", "min", "s", "ms",
})  # fmt: skip
#: Elements whose text is code by intent, or not text at all.
SKIPPED = {
    "script",
    "style",
    "code",
    "kbd",
    "pre",
    "textarea",
    "select",
    "option",
    "svg",
    "template",
}
WORD = re.compile(r"(?<![\w.-])[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9_]|(?<![\w.-])[A-Za-z]{2,}")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list[str] = []  # the stack of open elements being skipped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        classes = (named.get("class") or "").split()
        # English on purpose (a unit's English name, the language switch) says so: lang="en".
        english = (named.get("lang") or "").lower().startswith("en")
        hidden = "hidden" in named or "code" in classes or "visually-hidden" in classes or english
        if (self.skip or tag in SKIPPED or hidden) and tag not in VOID:
            self.skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip and self.skip[-1] == tag:
            self.skip.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


VOID = {"br", "img", "input", "hr", "meta", "link", "source", "col", "wbr", "area", "base"}


def visible_text(html: str) -> str:
    """The page's text as a reader sees it (roughly: no CSS), one string."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def ascii_identifiers(html: str, allowed: frozenset[str] = ALLOWED) -> list[str]:
    """The ASCII words in the page's visible text that a Chinese reader should not meet."""
    found = []
    for word in WORD.findall(visible_text(html)):
        if word in allowed or word.upper() in allowed:
            continue
        found.append(word)
    return found
