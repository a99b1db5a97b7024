"""score_files and the ``score`` management command on the documented Yongzhou example."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from duban.evaluation.engine import SchemeFileError, ValuesFileError
from duban.evaluation.engine.cli import score_files
from duban.evaluation.management.commands.score import Command
from duban.evaluation.tests.test_engine_files import docs_block


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    scheme = tmp_path / "yongzhou.yaml"
    values = tmp_path / "values-2017.csv"
    scheme.write_text(docs_block("example-scheme"), encoding="utf-8")
    values.write_text(docs_block("example-values"), encoding="utf-8")
    return scheme, values


def test_json_output_parses_back_with_the_hand_worked_figures(files: tuple[Path, Path]) -> None:
    data = json.loads(score_files(*files, "2017", "json", "zh"))
    assert (data["period"], data["as_of"], data["final"]) == ("2017", "2017-12-20", True)
    units = {unit["code"]: unit for unit in data["units"]}
    # display order: territorial bureaus by rank, then divisions
    assert [u["code"] for u in data["units"]] == [
        "lst",
        "dx",
        "qy",
        "ll",
        "da",
        "jh",
        "jjzd",
        "zazd",
        "xzzd",
    ]
    totals = {code: unit["total"] for code, unit in units.items()}
    assert totals == {
        "lst": "105.00",  # 20 + 10 + 10 + 10 + 10 + 10 + 20 + 10 + 5 (bonus 6 capped at 5)
        "dx": "95.00",  # 20 + 7 + 10 + 10 + 8 + 10 + 20 + 10
        "qy": "92.00",  # 20 + 10 + 8 + 10 + 6 + 8 + 20 + 10
        "ll": "84.24",  # 19 + 8.2353 + 7 + 9 + 6 + 8 + 15 + 10 + 2 = 84.2353
        "da": "59.00",  # 16 + 3 + 4 + 8 + 2 + 6 + 10 + 10
        "jh": "41.50",  # 14 + 10 + 3 + 7.5 + 0 + 0 + 0 + 7
        "jjzd": "101.17",  # 50 + 20 × 92/96 + 20 + 10 + 2
        "zazd": "96.67",  # 50 + 20 × 80/96 + 20 + 10
        "xzzd": "75.00",  # 50 × 0.6 + 20 + 15 + 10
    }
    assert units["ll"]["total_exact"].startswith("84.2352941176470588")
    grades = {code: (unit["grade"]["name"], unit["band"]["name"]) for code, unit in units.items()}
    assert grades == {
        "lst": ("优秀", "优秀"),
        "dx": ("良好", "优秀"),  # vetoed
        "qy": ("良好", "优秀"),  # 优秀 at most floor(6 × 25%) = 1, already taken
        "ll": ("良好", "良好"),
        "da": ("诫勉", "诫勉"),
        "jh": ("诫勉", "诫勉"),
        "jjzd": ("良好", "优秀"),  # 3 divisions: no 优秀 place at all
        "zazd": ("诫勉", "优秀"),  # 良好 full, 达标 has floor(0.6) = 0 places
        "xzzd": ("诫勉", "达标"),  # the bottom unit
    }
    assert [code for code, unit in units.items() if unit["vetoed"]] == ["dx"]
    clearance = next(i for i in units["da"]["items"] if i["code"] == "crackdown.clearance")
    assert clearance["explanation"] == (
        "实际 73.1，目标 85，完成率 86.0%，低于目标 14.0 个百分点，每个百分点扣 0.5 分，扣 7.00 分，得 3.00 分"
    )
    assert (clearance["score"], clearance["rate_percent"], clearance["flags"]) == (
        "3.00",
        "86.0",
        ["shortfall"],
    )
    fugitives = next(i for i in units["jh"]["items"] if i["code"] == "pursuit.fugitives")
    assert fugitives["flags"] == ["incomplete"]
    assert units["jh"]["shortfalls"][0] == {
        "item": "team.discipline",
        "reasons": ["bottom_third"],
        "points_lost": "20.00",
        "room": "0.00",
    }
    assert data["problems"] == [] and data["warnings"] == []


def test_english_json(files: tuple[Path, Path]) -> None:
    data = json.loads(score_files(*files, "2017", "json", "en"))
    da = next(unit for unit in data["units"] if unit["code"] == "da")
    assert da["name"] == "Dong'an county bureau"
    assert da["grade"]["name"] == "Admonished"
    clearance = next(i for i in da["items"] if i["code"] == "crackdown.clearance")
    assert clearance["explanation"] == (
        "actual 73.1, target 85, completion 86.0%, 14.0 points below target, 0.5 per point, "
        "minus 7.00, score 3.00"
    )


def test_table_output_is_the_one_documented(files: tuple[Path, Path]) -> None:
    assert score_files(*files, "2017", "table", "zh") == docs_block("example-output")


def test_csv_output_has_a_row_per_unit_and_item(files: tuple[Path, Path]) -> None:
    rows = list(csv.DictReader(io.StringIO(score_files(*files, "2017", "csv", "en"))))
    assert len(rows) == 6 * 10 + 3 * 6  # territorial bureaus: 10 items; divisions: 6
    da = [row for row in rows if row["unit"] == "da"]
    assert {row["total"] for row in da} == {"59.00"}
    assert next(row for row in da if row["item"] == "poll.rank")["place"] == "5"


def test_problems_are_reported_in_the_output(files: tuple[Path, Path]) -> None:
    scheme, values = files
    text = values.read_text(encoding="utf-8").replace(
        "jh,3,,接处警记录不全，问题露头未抓", "jh,3,,"
    )
    values.write_text(text, encoding="utf-8")
    data = json.loads(score_files(scheme, values, "2017", "json", "en"))
    assert data["problems"] == [
        {
            "item": "team.management",
            "unit": "jh",
            "code": "invalid",
            "message": "item team.management (Team management), unit jh (Jianghua county bureau): "
            "a discretionary deduction needs a written reason",
        }
    ]
    assert "a discretionary deduction needs a written reason" in score_files(
        scheme, values, "2017", "table", "en"
    )


def test_a_month_of_the_12_21_calendar(files: tuple[Path, Path], tmp_path: Path) -> None:
    # The example's values are yearly; scoring a month finds no monthly figures: all missing.
    data = json.loads(score_files(*files, "201703", "json", "en"))
    assert data["as_of"] == "2017-03-20"
    assert all(item["flags"][0] == "missing" for unit in data["units"] for item in unit["items"])


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("2017", "pdf", "zh"), "unknown format 'pdf'"),
        (("2017", "json", "fr"), "unknown language 'fr'"),
        (("2018", "json", "zh"), "statistical year 2018"),
    ],
)
def test_bad_arguments(files: tuple[Path, Path], args: tuple[str, str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        score_files(*files, *args)


@pytest.mark.usefixtures("english")
def test_file_errors_propagate(files: tuple[Path, Path]) -> None:
    scheme, values = files
    values.write_text("indicator,period,unit,value\nnope,2017,lst,1\n", encoding="utf-8")
    with pytest.raises(ValuesFileError, match="line 2, column 1"):
        score_files(scheme, values, "2017")
    scheme.write_text("code: x\n", encoding="utf-8")
    with pytest.raises(SchemeFileError, match="name: is required"):
        score_files(scheme, values, "2017")


# ---------------------------------------------------------------- the management command


def test_command_prints_the_rendered_result(files: tuple[Path, Path]) -> None:
    out = io.StringIO()
    call_command(Command(), *map(str, files), period="2017", fmt="json", lang="en", stdout=out)
    data = json.loads(out.getvalue())
    assert data["lang"] == "en" and data["units"][0]["code"] == "lst"
    assert Command.requires_system_checks == []


def test_command_takes_today_for_expected_progress(files: tuple[Path, Path]) -> None:
    out = io.StringIO()
    command = Command()
    call_command(
        command,
        *map(str, files),
        "--period",
        "2017",
        "--format",
        "json",
        "--today",
        "2017-06-30",
        stdout=out,
    )
    assert json.loads(out.getvalue())["as_of"] == "2017-06-30"


def test_command_errors_carry_the_file_errors_message(files: tuple[Path, Path]) -> None:
    scheme, values = files
    scheme.write_text("code: x\nyear: 2017\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command(Command(), str(scheme), str(values), period="2017")
    message = str(caught.value)  # in Chinese, the command's default --lang
    assert message.startswith(f"方案文件 {scheme}: ")
    assert "  name: 必填" in message.splitlines()
    assert "  issuer: 必填" in message.splitlines()
    with pytest.raises(CommandError) as caught:
        call_command(Command(), str(scheme), str(values), period="2017", lang="en")
    assert str(caught.value).startswith(f"scheme file {scheme}: ")
    assert "  name: is required" in str(caught.value).splitlines()
