"""`duban score` reads what Chinese Excel saves, refuses what it cannot read by file and line,
and warns about a values file that scores nothing or holds another year's figures."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from duban.evaluation.engine.cli import score_files
from duban.evaluation.engine.files import ValuesFileError
from duban.evaluation.management.commands.score import Command
from duban.evaluation.tests.test_engine_files import docs_block


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    scheme = tmp_path / "yongzhou.yaml"
    values = tmp_path / "values-2017.csv"
    scheme.write_text(docs_block("example-scheme"), encoding="utf-8")
    values.write_text(docs_block("example-values"), encoding="utf-8")
    return scheme, values


def test_gb18030_and_bom_files_score_as_utf8(files: tuple[Path, Path]) -> None:
    scheme, values = files
    expected = score_files(scheme, values, "2017", "json")
    text = values.read_text(encoding="utf-8")
    for data in (text.encode("gb18030"), b"\xef\xbb\xbf" + text.encode()):
        values.write_bytes(data)
        assert score_files(scheme, values, "2017", "json") == expected
    scheme.write_bytes(scheme.read_text(encoding="utf-8").encode("gb18030"))
    assert score_files(scheme, values, "2017", "json") == expected


def test_a_file_in_neither_encoding_is_refused_by_file_and_line(files: tuple[Path, Path]) -> None:
    scheme, values = files
    values.write_bytes(b"indicator,period,unit,value\n\xff,2017,lst,1\n")
    with pytest.raises(ValuesFileError) as caught:
        score_files(scheme, values, "2017")
    assert str(values) in str(caught.value) and "第 2 行" in str(caught.value)
    with pytest.raises(CommandError, match="on line 2"):
        call_command(Command(), str(scheme), str(values), period="2017", lang="en")


def _warnings(scheme: Path, values: Path, lang: str = "zh") -> list[str]:
    err = io.StringIO()
    call_command(
        Command(), str(scheme), str(values), period="2017", lang=lang, stdout=io.StringIO(),
        stderr=err, no_color=True,
    )  # fmt: skip
    return err.getvalue().splitlines()


def test_figures_outside_the_schemes_year_are_a_warning(files: tuple[Path, Path]) -> None:
    scheme, values = files
    with values.open("a", encoding="utf-8") as f:
        f.write("crackdown.solved,2016,lst,1,,\ncrackdown.solved,2016,ll,2,,\n")
    assert _warnings(scheme, values) == [
        f"{values}: line {len(docs_block('example-values').splitlines()) + 1}: "
        "统计期 2016 不在方案年度 2017 内：其 2 行数据不参与任何计分"
    ]
    assert "outside the scheme's year 2017: 2 rows" in _warnings(scheme, values, "en")[0]


def test_a_values_file_with_a_header_and_no_rows_is_a_warning(files: tuple[Path, Path]) -> None:
    scheme, values = files
    values.write_text("indicator,period,unit,value\n", encoding="utf-8")
    assert _warnings(scheme, values) == [
        f"{values}: line 2: 文件只有表头、没有数据行：没有任何数据"
    ]


def test_a_good_file_warns_about_nothing(files: tuple[Path, Path]) -> None:
    assert _warnings(*files) == []
