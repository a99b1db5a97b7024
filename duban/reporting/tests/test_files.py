"""Files in: CSV, DHIS2 JSON, Excel (template and plain sheet). A rejected file changes nothing
and every bad line, path or cell is named."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from duban.errors import DubanError
from duban.orgs.policy import SYSTEM
from duban.periods import parse_period
from duban.reporting import exports, importing, readers, services
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import DataValue, State, Submission
from duban.reporting.tests.conftest import TODAY, db_dump, values_of
from duban.testing import make_user


@pytest.fixture
def reporter(tree):
    """One account that reports for both counties, as a business system's account would."""
    return make_user("sys_feed", tree.county_a, "reporter") and _also(tree)


def _also(tree):
    from duban.accounts.models import User
    from duban.orgs.models import Membership

    user = User.objects.get(username="sys_feed")
    Membership.objects.create(user=user, unit=tree.county_b, role="reporter")
    return user


def imp(data: bytes, fmt: str, user, **kw):
    return importing.import_file(data, fmt, user=user, today=TODAY, **kw)


def where(exc: pytest.ExceptionInfo[ReportingError]) -> dict[str, str]:
    return {p.where: p.message for p in exc.value.problems}


GOOD_CSV = (
    "indicator,period,unit,value,comment\n"
    "case.filed,201712,COUNTY-A,10,\n"
    "case.solved,201712,COUNTY-A,7,含移送\n"
    "case.filed,201712,COUNTY-B,4,\n"
)


def test_csv_imports_every_row(form, tree, reporter) -> None:
    result = imp(GOOD_CSV.encode(), "csv", reporter)
    assert (result.rows, result.created) == (3, 3)
    assert values_of(tree.county_a, "201712") == {"case.filed": 10, "case.solved": 7}


def test_csv_in_gb18030_with_dhis2_column_names(form, tree, reporter) -> None:
    text = "dataelement,period,orgunit,categoryoptioncombo,value,comment\ncase.filed,201712,COUNTY-A,,5,中文备注\n"
    imp(text.encode("gb18030"), "csv", reporter)
    assert values_of(tree.county_a, "201712") == {"case.filed": 5}


def test_a_bad_csv_lists_every_bad_line_and_imports_nothing(form, tree, reporter) -> None:
    imp(GOOD_CSV.encode(), "csv", reporter)
    before = db_dump()
    bad = (
        "indicator,period,unit,value\n"
        "case.filed,201712,COUNTY-A,11\n"  # fine on its own
        "case.filedd,201712,COUNTY-A,1\n"  # unknown indicator: reported, not guessed
        "case.filed,2017-12,COUNTY-A,1\n"  # bad period
        "case.filed,201712,COUNTY-Z,1\n"  # unknown unit
        "case.solved,201712,COUNTY-B,lots\n"  # text
        "case.filed,201712,COUNTY-A,12\n"  # duplicate of line 2
        "case.clearance,201712,COUNTY-A,50\n"  # computed
        "case.filed,201712,STATION-A1,1\n"  # not his unit
        "case.filed,201712,COUNTY-B\n"  # short row
    )
    with pytest.raises(ReportingError) as exc:
        imp(bad.encode(), "csv", reporter)
    assert exc.value.status == 400
    assert where(exc) == {
        "line 10": "有 3 个字段，表头有 4 个",
    }, "the shape is checked first"
    with pytest.raises(ReportingError) as exc:
        imp(bad.replace("COUNTY-B\n", "COUNTY-B,1\n").encode(), "csv", reporter)
    got = where(exc)
    assert got["line 3"] == "未知的指标代码 'case.filedd'"
    assert "报告期标识 '2017-12' 无效" in got["line 4"]
    assert got["line 5"] == "未知的单位代码 'COUNTY-Z'"
    assert got["line 6"] == "case.solved：'lots' 不是数字"
    assert got["line 7"] == "COUNTY-A case.filed 201712 在 line 2 处也已给出"
    assert "无需填报" in got["line 8"]
    assert got["line 9"] == "您无权为 STATION-A1 填报数据"
    assert "line 2" not in got and "line 10" not in got
    assert db_dump() == before


def test_unknown_columns_are_refused(form, reporter) -> None:
    with pytest.raises(ReportingError) as exc:
        imp(
            b"indicator,period,unit,value,colour\ncase.filed,201712,COUNTY-A,1,red\n",
            "csv",
            reporter,
        )
    assert where(exc) == {
        "line 1": "未知的列 'colour'（应为 indicator, period, unit, value、comment）"
    }


def test_a_rule_broken_across_lines_names_both_lines(form, reporter) -> None:
    before = db_dump()
    with pytest.raises(ReportingError) as exc:
        imp(
            b"indicator,period,unit,value\ncase.filed,201712,COUNTY-A,1\ncase.solved,201712,COUNTY-A,2\n",
            "csv",
            reporter,
        )
    assert list(where(exc)) == ["line 2, line 3"]
    assert db_dump() == before


def test_a_locked_value_is_a_409_and_nothing_else_is_written(form, tree, reporter) -> None:
    imp(GOOD_CSV.encode(), "csv", reporter)
    Submission.objects.filter(unit=tree.county_a).update(state=State.LOCKED)
    before = db_dump()
    with pytest.raises(ReportingConflict) as exc:
        imp(b"indicator,period,unit,value\ncase.filed,201712,COUNTY-A,99\n", "csv", reporter)
    assert exc.value.status == 409 and "锁定" in where(exc)["line 2"]
    with pytest.raises(ReportingError) as exc:
        imp(
            b"indicator,period,unit,value\ncase.filed,201712,COUNTY-A,99\ncase.filed,201712,COUNTY-B,x\n",
            "csv",
            reporter,
        )
    assert exc.value.status == 400, "a file with other problems too is a 400 listing all of them"
    assert db_dump() == before


def test_dhis2_json_both_ways(form, tree, reporter) -> None:
    doc = {
        "dataSet": "CITY-M",
        "period": "201712",
        "orgUnit": "COUNTY-A",
        "dataValues": [
            {"dataElement": "case.filed", "value": "12", "comment": "x"},
            {"dataElement": "case.solved", "value": 7.5e0 * 0 + 7},
            {
                "dataElement": "case.filed",
                "orgUnit": "COUNTY-B",
                "value": "3",
                "categoryOptionCombo": "HllvX50cXC0",
            },
        ],
    }
    imp(json.dumps(doc).encode(), "json", reporter)
    assert values_of(tree.county_a, "201712") == {"case.filed": 12, "case.solved": 7}
    sel = exports.Selection(tree.city, ("201712",), form.data_set)
    out = exports.dhis2_json(exports.export_rows(sel, SYSTEM))
    assert {(d["dataElement"], d["orgUnit"], d["value"]) for d in out["dataValues"]} == {
        ("case.filed", "COUNTY-A", "12"),
        ("case.solved", "COUNTY-A", "7"),
        ("case.filed", "COUNTY-B", "3"),
    }
    before = db_dump()
    bad = {
        "dataValues": [
            {
                "dataElement": "case.filed",
                "period": "201712",
                "orgUnit": "COUNTY-A",
                "value": "1",
                "categoryOptionCombo": "Xyz",
            },
            {"dataElement": "case.filed", "period": "201712", "orgUnit": "COUNTY-A", "valu": "1"},
            "nope",
        ]
    }
    with pytest.raises(ReportingError) as exc:
        imp(json.dumps(bad).encode(), "json", reporter)
    assert set(where(exc)) == {"dataValues[0]", "dataValues[1]", "dataValues[2]"}
    with pytest.raises(DubanError, match="JSON") as bad_json:
        imp(b'{"dataValues": [', "json", reporter)
    assert bad_json.value.problems[0].where == "file"
    assert db_dump() == before


# Excel -------------------------------------------------------------------------------------------


def template_for(form, units, root, period="201712") -> bytes:
    return exports.build_template(form.data_set, units, root, parse_period(period))


def fill(data: bytes, cells: dict[str, object], sheet: str = "Data") -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb[sheet]
    for ref, value in cells.items():
        ws[ref] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rows_of(data: bytes) -> dict[tuple[str, str], int]:
    """Template row of each (unit, indicator), read back as a user's Excel would."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Data"]
    return {
        (ws[f"A{r}"].value, ws[f"C{r}"].value): r
        for r in range(readers.FIRST_DATA_ROW, ws.max_row + 1)
    }


def test_template_is_protected_with_fixed_codes_validation_and_previous_values(
    form, tree, reporter
) -> None:
    services.open_period(form.data_set, "201612", user=SYSTEM)
    from datetime import date

    services.save_form(
        form.data_set,
        tree.county_a,
        "201711",
        {"case.filed": "8"},
        user=SYSTEM,
        today=date(2017, 12, 1),
    )
    data = template_for(form, [tree.county_a], tree.county_a)
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Data"]
    assert ws.protection.sheet is True
    assert wb["_duban"].sheet_state == "veryHidden"
    r = rows_of(data)[("COUNTY-A", "case.filed")]
    assert ws[f"F{r}"].value == 8, "the previous period is shown"
    assert ws[f"A{r}"].protection.locked and not ws[f"H{r}"].protection.locked
    assert set(rows_of(data)) == {
        ("COUNTY-A", c) for c in ("case.filed", "case.solved", "poll.score", "crime.gangs")
    }
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert kinds == {"whole", "decimal"}


def test_uploaded_template_fills_the_same_form(form, tree, personas) -> None:
    data = template_for(form, [tree.county_a], tree.county_a)
    r = rows_of(data)
    filled = fill(
        data,
        {
            f"H{r[('COUNTY-A', 'case.filed')]}": 10,
            f"H{r[('COUNTY-A', 'case.solved')]}": "7",
            f"H{r[('COUNTY-A', 'poll.score')]}": 92.5,
            f"I{r[('COUNTY-A', 'case.filed')]}": "备注",
        },
    )
    units = [tree.county_a, tree.station_a1]
    result = imp(
        filled,
        "xlsx",
        personas.county_reporter,
        form=(form.data_set, tree.county_a, "201712", units),
    )
    assert result.created == 3
    assert values_of(tree.county_a, "201712") == {
        "case.filed": 10,
        "case.solved": 7,
        "poll.score": Decimal("92.5"),
    }


def test_template_for_all_children(form, tree, reporter) -> None:
    data = template_for(form, [tree.county_a, tree.county_b], tree.city)
    r = rows_of(data)
    filled = fill(
        data, {f"H{r[('COUNTY-A', 'case.filed')]}": 1, f"H{r[('COUNTY-B', 'case.filed')]}": 2}
    )
    imp(filled, "xlsx", reporter)
    assert values_of(tree.county_b, "201712") == {"case.filed": 2}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("text", {"H{filed}": "case.filed：'twelve' 不是数字"}),
        ("formula", {"H{filed}": "case.filed：不接受公式：请直接填写数值"}),
        ("decimal", {"H{filed}": "case.filed：必须是整数"}),
        ("code", {"C{filed}": "代码被改动：模板中是 case.filed，文件中是 case.fild"}),
        ("extra", {"A{extra}": "此行不属于模板"}),
        ("deleted", {"A{solved}": "模板中有一行被删除了"}),
    ],
)
def test_bad_cells_are_named_by_address_and_nothing_is_imported(
    form, tree, personas, case, expected
) -> None:
    data = template_for(form, [tree.county_a], tree.county_a)
    r = rows_of(data)
    filed, solved = r[("COUNTY-A", "case.filed")], r[("COUNTY-A", "case.solved")]
    extra = max(r.values()) + 1
    edits: dict[str, object] = {f"H{solved}": 1}
    if case == "text":
        edits[f"H{filed}"] = "twelve"
    elif case == "formula":
        edits[f"H{filed}"] = "=1+1"
    elif case == "decimal":
        edits[f"H{filed}"] = 2.5
    elif case == "code":
        edits[f"C{filed}"] = "case.fild"
    elif case == "extra":
        edits[f"A{extra}"] = "COUNTY-A"
        edits[f"H{extra}"] = 5
    elif case == "deleted":
        edits = {f"{col}{solved}": None for col in "ABCDEFGHI"}
    bad = fill(data, edits)
    before = db_dump()
    with pytest.raises(ReportingError) as exc:
        imp(
            bad,
            "xlsx",
            personas.county_reporter,
            form=(form.data_set, tree.county_a, "201712", [tree.county_a]),
        )
    want = {k.format(filed=filed, solved=solved, extra=extra): v for k, v in expected.items()}
    assert where(exc) == want
    assert db_dump() == before


def test_another_template_or_period_is_refused_by_name(form, tree, personas) -> None:
    data = template_for(form, [tree.county_a], tree.county_a, period="201711")
    before = db_dump()
    with pytest.raises(ReportingError) as exc:
        imp(
            data,
            "xlsx",
            personas.county_reporter,
            form=(form.data_set, tree.county_a, "201712", [tree.county_a]),
        )
    assert where(exc) == {"file": "此模板属于统计期 201711，当前填报表是 201712"}
    sibling = template_for(form, [tree.county_b], tree.county_b)
    with pytest.raises(ReportingError, match="其他单位：COUNTY-B"):
        imp(
            sibling,
            "xlsx",
            personas.county_reporter,
            form=(form.data_set, tree.county_a, "201712", [tree.county_a]),
        )
    tree_export = Workbook()
    tree_export.active.append(["code", "parent", "name_zh"])
    buf = io.BytesIO()
    tree_export.save(buf)
    with pytest.raises(ReportingError, match="既不是督办平台的模板"):
        imp(buf.getvalue(), "xlsx", personas.county_reporter)
    assert db_dump() == before


def test_the_wrong_period_in_an_expired_template_is_a_conflict(form, tree, personas) -> None:
    data = template_for(form, [tree.county_a], tree.county_a, period="201711")
    r = rows_of(data)
    filled = fill(data, {f"H{r[('COUNTY-A', 'case.filed')]}": 3})
    with pytest.raises(ReportingConflict, match="已于 2017-12-15 后截止"):
        imp(filled, "xlsx", personas.county_reporter)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"indicator,period,unit,value\n", "Excel"),
        (b"", "文件是空的"),
        (b"%PDF-1.4 not a workbook", "Excel"),
    ],
)
def test_a_file_that_is_not_xlsx(form, personas, payload: bytes, message: str) -> None:
    before = db_dump()
    with pytest.raises(DubanError, match=message):
        imp(payload, "xlsx", personas.county_reporter)
    assert db_dump() == before


def test_a_zip_that_is_not_a_workbook_and_a_zip_bomb(form, personas, monkeypatch) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(DubanError, match="zip") as not_a_book:
        imp(buf.getvalue(), "xlsx", personas.county_reporter)
    assert not_a_book.value.problems[0].where == "file"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * 5_000_000)
    with pytest.raises(DubanError, match=r"sheet1\.xml") as bomb:  # unpacks ~5,000-fold
        imp(buf.getvalue(), "xlsx", personas.county_reporter)
    assert bomb.value.problems[0].where == "file"


def test_a_plain_sheet_names_cells(form, tree, reporter) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["indicator", "period", "unit", "value"])
    ws.append(["case.filed", 201712, "COUNTY-A", 4])
    ws.append(["case.solved", "201712", "COUNTY-A", "=A1"])
    ws.append(["case.nope", "201712", "COUNTY-A", 1])
    buf = io.BytesIO()
    wb.save(buf)
    before = db_dump()
    with pytest.raises(ReportingError) as exc:
        imp(buf.getvalue(), "xlsx", reporter)
    assert where(exc) == {
        "D3": "case.solved：不接受公式：请直接填写数值",
        "A4": "未知的指标代码 'case.nope'",
    }
    assert db_dump() == before
    ws.delete_rows(3, 2)
    buf = io.BytesIO()
    wb.save(buf)
    imp(buf.getvalue(), "xlsx", reporter)
    assert values_of(tree.county_a, "201712") == {"case.filed": 4}


def test_sniffing_reads_a_file_for_what_it_is() -> None:
    assert importing.sniff_format("data.csv", b"PK\x03\x04rest") == "xlsx"
    assert importing.sniff_format("x.txt", b'\xef\xbb\xbf {"dataValues": []}') == "json"
    assert importing.sniff_format("x.xlsx", b"indicator,period") == "xlsx"
    assert importing.sniff_format("x", b"indicator,period") == "csv"


def test_an_import_writes_forms_figures_versions_and_a_trail_that_verifies(
    form, tree, reporter
) -> None:
    """The bulk write's own SQL (forms by many-row INSERT, versions by version + 1, figures by
    executemany or COPY, entries not round-tripped): every form ends one version up, new
    forms as drafts, and each entry read back from the database still carries its MAC and
    lists exactly the changes."""
    from duban.audit.models import AuditEntry

    imp(GOOD_CSV.encode(), "csv", reporter)
    before = dict(Submission.objects.filter(period="201712").values_list("unit__code", "version"))
    assert before == {"COUNTY-A": 1, "COUNTY-B": 1}
    assert set(Submission.objects.values_list("state", flat=True)) == {State.DRAFT}
    mark = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    again = (
        "indicator,period,unit,value,comment\n"
        "case.filed,201712,COUNTY-A,12,改\n"  # changed value and comment
        "case.solved,201712,COUNTY-A,7,含移送\n"  # the same
        "case.solved,201712,COUNTY-B,3,\n"  # new
    )
    result = imp(again.encode(), "csv", reporter)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert dict(
        Submission.objects.filter(period="201712").values_list("unit__code", "version")
    ) == {"COUNTY-A": 2, "COUNTY-B": 2}
    entries = list(AuditEntry.objects.filter(seq__gt=mark).order_by("seq"))
    assert all(e.intact for e in entries)
    changes = [
        c for e in entries if e.action == "reporting.values.imported" for c in e.after["changes"]
    ]
    assert sorted(changes) == [
        ["COUNTY-A", "case.filed", "201712", "10", "12", "", "改"],
        ["COUNTY-B", "case.solved", "201712", "", "3"],
    ]


@pytest.mark.parametrize("per_statement", [1, 2, 3, 500])
def test_new_figures_come_in_whole_however_the_insert_cuts_them(
    form, tree, reporter, monkeypatch, per_statement: int
) -> None:
    """SQLite's insert of many VALUES rows per statement: full statements, then the rest."""
    from duban.reporting import values

    monkeypatch.setattr(values, "INSERT_ROWS", per_statement)
    result = imp(GOOD_CSV.encode(), "csv", reporter)
    assert result.created == 3
    assert values_of(tree.county_a, "201712") == {"case.filed": 10, "case.solved": 7}
    assert values_of(tree.county_b, "201712") == {"case.filed": 4}
    comments = dict(
        DataValue.objects.filter(unit=tree.county_a).values_list("indicator__code", "comment")
    )
    assert comments == {"case.filed": "", "case.solved": "含移送"}
