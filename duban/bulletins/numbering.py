"""Document numbers and disclosure index numbers, written as GB/T 9704 and the public sites do.

发文字号 (§7.2.4): the issuer's prefix, the year in full in 六角括号 〔〕, the serial number
without leading zeros and without 第, then 号 — 陕公改办通〔2018〕7号. 索引号 as on the public
disclosure site (seed 000): the organisation's code, the year and a five-digit running
number — 431100051/2017-04796.
"""

from __future__ import annotations

import re
from datetime import date

_NUMBER = re.compile(r"^(?P<prefix>.+)〔(?P<year>\d{4})〕(?P<seq>[1-9]\d*)号$")


def document_number(prefix: str, year: int, seq: int) -> str:
    if seq < 1:
        raise ValueError("a document's serial number starts at 1")
    return f"{prefix}〔{year}〕{seq}号"


def parse_document_number(number: str) -> tuple[str, int, int]:
    """(prefix, year, serial) of a number written as document_number writes it."""
    found = _NUMBER.match(number)
    if found is None:
        raise ValueError(f"not a document number: {number!r}")
    return found["prefix"], int(found["year"]), int(found["seq"])


def index_number(code: str, year: int, seq: int) -> str:
    return f"{code}/{year}-{seq:05d}" if code else f"{year}-{seq:05d}"


def date_written(day: date) -> str:
    """成文日期 in Arabic numerals, the year in full, no leading zeros: 2017年12月8日."""
    return f"{day.year}年{day.month}月{day.day}日"
