"""What every writer shares: the GB/T 9704 numbers, the format's fixed words, cell text.

The fixed words (抄送, 印发, 草稿, the 〔〕 of a number) are the standard's own text, not the
interface's: a Chinese official document carries them in Chinese whatever language the
person who downloads it reads, so they are constants here, not gettext messages.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

from duban.documents.model import Cell, Column
from duban.errors import DubanError

# Paper and text block, mm (GBT9704.md §2).
PAGE_W, PAGE_H = 210.0, 297.0
TOP, BOTTOM, LEFT, RIGHT = 37.0, 35.0, 28.0, 26.0
BLOCK_W, BLOCK_H = 156.0, 225.0
LINES, CHARS = 22, 28
LINE_MM = BLOCK_H / LINES  # 10.227 mm = 28.99 pt: one 行
CHAR_MM = BLOCK_W / CHARS  # 5.571 mm: one 字 of the grid
MARK_TOP_MM = 35.0  # 发文机关标志's top edge below the text block's top (§7.2)
RED_LINE_GAP_MM = 4.0  # the red separator under the number
PAGE_NUMBER_GAP_MM = 7.0  # the page number's dash below the text block

# Sizes, pt (GBT9704.md §2, the usual 号 to pt table).
SIZE_2, SIZE_3, SIZE_4, SIZE_S4 = 22.0, 16.0, 14.0, 12.0
MARK_MAX_PT = 36.0  # 小初: the mark's size when the authority's name fits the block
TABLE_PT = SIZE_S4  # tables: 小四 (the standard fixes none; 8 columns fit in 156 mm)

RED = "FF0000"
DASH = "—"
DRAFT = "草稿"
COPY_TO = "抄送："
PRINTED = "印发"
EMPTY = "—"


class DocumentError(DubanError):
    """A document that cannot be laid out (a chart kind no writer draws, a missing font)."""


UNDRAWABLE = _("a document draws bar and line charts, not %(kind)s")


def date_text(day: date) -> str:
    """成文日期: Arabic numerals, the year in full, month and day without a leading zero."""
    return f"{day.year}年{day.month}月{day.day}日"


def ems(text: str) -> float:
    """Width in 字: a CJK (wide) character one, a half-width digit or letter a half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in text)


def mark_size_pt(authority: str) -> float:
    """The mark's size: 小初, or smaller so that a long name stays on one line of 156 mm."""
    width_pt = BLOCK_W / 25.4 * 72
    return min(MARK_MAX_PT, round(width_pt / max(ems(authority), 1) - 0.5, 1))


def signature_indents(signature: str, written: str) -> tuple[float, float]:
    """Right indents in 字 of the 署名 and the 成文日期 of a document without a seal (§7.3.5):
    the signature 右空二字, the date's first character two 字 right of the signature's; a
    date longer than that is 右空二字 itself and the signature moves left to match."""
    sig, day = ems(signature), ems(written)
    date_right = sig - day
    if date_right < 2:
        date_right = 2.0
    return date_right + day + 2 - sig, date_right


def cell_text(column: Column, value: Cell) -> str:
    """A table cell as every writer shows it: rounded half-up to the column's decimals,
    digits grouped when the column says so, % appended to a percent column (whose number
    is in percentage points: 38.99 is shown 38.99%); no value is a dash."""
    if value is None:
        return EMPTY
    if isinstance(value, str) or column.decimals is None:
        return str(value)
    exact = Decimal(value)
    shown = exact.quantize(Decimal(1).scaleb(-column.decimals), rounding=ROUND_HALF_UP)
    text = f"{shown:,.{column.decimals}f}" if column.thousands else f"{shown:.{column.decimals}f}"
    return text + ("%" if column.percent else "")


def column_shares(columns: list[Column] | tuple[Column, ...]) -> list[float]:
    """Each column's width in mm: its share of the text block's 156 mm."""
    total = sum(c.width for c in columns) or 1.0
    return [BLOCK_W * c.width / total for c in columns]
