"""Figures files in any encoding Chinese Excel saves, and files with nothing in them."""

from __future__ import annotations

import pytest

from duban.reporting import importing, readers
from duban.reporting.errors import ReportingError
from duban.reporting.tests.conftest import TODAY


def test_csv_with_a_bom_reads_as_without() -> None:
    text = "indicator,period,unit,value\ncase.filed,201712,COUNTY-A,10\n"
    assert readers.read_csv(b"\xef\xbb\xbf" + text.encode()) == readers.read_csv(text.encode())


def test_csv_in_neither_encoding_is_refused_naming_the_line() -> None:
    data = b"indicator,period,unit,value\ncase.filed,201712,COUNTY-A,\xff\n"
    with pytest.raises(ReportingError) as caught:
        readers.read_csv(data)
    assert [(p.where, "第 2 行" in p.message) for p in caught.value.problems] == [("file", True)]


def test_dhis2_json_is_read_through_the_same_decoder() -> None:
    with pytest.raises(ReportingError, match="第 1 行"):
        readers.read_dhis2_json(b'{"dataValues": [\xff]}')


def test_a_header_and_no_rows_is_refused_not_silently_imported(tree) -> None:
    from duban.testing import make_user

    reporter = make_user("feed", tree.county_a, "reporter")
    with pytest.raises(ReportingError, match="文件中没有任何数据"):
        importing.import_file(b"indicator,period,unit,value\n", "csv", user=reporter, today=TODAY)
