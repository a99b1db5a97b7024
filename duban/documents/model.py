"""An official document as plain data: what every writer (DOCX, PDF, XLSX, HTML) reads.

A builder (the monthly bulletin, the quarterly review, the dispatch brief) turns the data into
one ``OfficialDocument``; the writers in this package lay it out to GB/T 9704-2012 and never
look anything up themselves, so the four formats cannot disagree (pretix's exporters: one row
iterator, several renderers). Plain Python: no Django, no database.

Text is final text: numbers are already formatted by the builder, except table cells, which
keep the number so that XLSX stores a number and every writer formats it the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

Number = int | Decimal


@dataclass(frozen=True)
class Heading:
    """A heading with its number written in (``一、总体进展`` / ``（一）完成较好的单位``).

    Level 1 is set in 黑体, level 2 in 楷体, levels 3 and 4 in 仿宋 (GB/T 9704 §7.3.3)."""

    text: str
    level: Literal[1, 2, 3, 4] = 1


@dataclass(frozen=True)
class Paragraph:
    """A body paragraph (3号仿宋, first line indented two characters).

    ``lead`` is a run at its start set like a level-3 heading (``1.完成情况。``), as
    bulletins often open a paragraph. ``key`` names an editable text part of a draft
    (``None``: generated, not editable)."""

    text: str
    lead: str = ""
    key: str | None = None


@dataclass(frozen=True)
class Column:
    """A table column: its Chinese header, and how its numbers are shown.

    ``decimals`` applies to numbers (None: the cell is text); ``percent`` appends %;
    ``thousands`` groups digits (21,710). ``width`` is a share of the text block's width."""

    header: str
    decimals: int | None = None
    percent: bool = False
    thousands: bool = False
    width: float = 1.0


Cell = str | Number | None  # None: no value, shown as —


@dataclass(frozen=True)
class Table:
    """A table inside the text block; ``total_rows`` rows (from the top) are totals, set bold
    (全省合计 above the units). ``title`` is shown above it and names its XLSX sheet."""

    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    total_rows: int = 0
    note: str = ""  # a line under the table (注：…)

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.title!r}: row {i + 1} has {len(row)} cells for {len(self.columns)} columns"
                )


@dataclass(frozen=True)
class Chart:
    """A chart placed in the text: a ``duban.web.charts`` BarChart or LineChart (the cockpit's
    own description), drawn on the server in the cockpit's colours with the CJK font."""

    chart: object  # duban.web.charts.BarChart | LineChart
    caption: str = ""
    height_mm: float = 80.0


@dataclass(frozen=True)
class PageBreak:
    """The next block starts a new page (the dispatch brief: one page per unit)."""


Block = Heading | Paragraph | Table | Chart | PageBreak


@dataclass(frozen=True)
class OfficialDocument:
    """One document: 版头 (authority mark, number), 主体 (title, addressees, body, signature,
    date) and 版记 (copied to, printed by and on), GB/T 9704-2012 §7.

    ``number`` is the 发文字号 (陕公改办通〔2018〕7号) once issued; a draft has none and is
    marked as a draft by every writer. ``date_written`` is the 成文日期, written 2017年12月8日."""

    authority: str  # 发文机关标志, e.g. 陕西省公安厅改革办公室
    title: str
    body: Sequence[Block]
    signature: str  # 署名 under the body
    date_written: date
    number: str | None = None
    addressees: str = ""  # 主送机关, without the closing colon
    copy_to: str = ""  # 抄送
    printed_by: str = ""  # 印发机关
    printed_on: date | None = None  # 印发日期
    index_number: str = ""  # 索引号 (disclosure), e.g. 431100051/2017-04796
    category: str = ""  # 分类 (disclosure)
    notes: Sequence[str] = field(default_factory=tuple)  # 附注, e.g. 演示数据均为虚构
    draft: bool = False

    def tables(self) -> list[Table]:
        return [b for b in self.body if isinstance(b, Table)]

    def charts(self) -> list[Chart]:
        return [b for b in self.body if isinstance(b, Chart)]
