"""Cells that every xlsx and csv export writes through: text a spreadsheet would run as a
formula (=, +, -, @, tab, carriage return — OWASP's list) gets a leading apostrophe."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """Neutralise a text cell that a spreadsheet would run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def safe_cell(value: object) -> object:
    """`safe_text` for text; numbers, dates and empty cells pass unchanged."""
    return safe_text(value) if isinstance(value, str) else value
