"""One decoder for every text file read: UTF-8 with or without BOM, else GB18030, else a
refusal naming the file and the line of the first bad byte, in the user's language."""

from __future__ import annotations

import pytest
from django.utils import translation

from duban.text import UndecodableText, decode_text

CSV = "indicator,period,unit,value,comment\ncase.filed,201712,王庄所,5,王\n"


@pytest.mark.parametrize(
    "data",
    [CSV.encode("utf-8"), b"\xef\xbb\xbf" + CSV.encode("utf-8"), CSV.encode("gb18030")],
    ids=["utf-8", "utf-8 with BOM", "gb18030"],
)
def test_utf8_with_or_without_bom_and_gb18030_read_the_same(data: bytes) -> None:
    assert decode_text(data) == CSV


def test_gb18030_bytes_are_not_utf8() -> None:
    """The case the decoder exists for: what Chinese Excel saves as "CSV"."""
    data = "王".encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_text(data) == "王"


def test_bytes_neither_reads_are_refused_naming_file_and_line() -> None:
    data = b"a,b\n1,2\n" + b"3,\xff\n"
    with pytest.raises(UndecodableText) as caught:
        decode_text(data, "figures.csv")
    assert (caught.value.name, caught.value.line) == ("figures.csv", 3)
    assert "figures.csv" in str(caught.value) and "第 3 行" in str(caught.value)
    with translation.override("en"), pytest.raises(UndecodableText, match="on line 3"):
        decode_text(data, "figures.csv")


def test_text_passes_unchanged() -> None:
    assert decode_text("王") == "王"
