"""The record import against hand-counted files: every encoding and format, every kind of
bad row by its line, the decision (apply the good rows, or refuse), and a second import of
the same file changing nothing. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from django.utils import translation

from duban.audit.models import AuditEntry
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.records import services, store
from duban.records.demo import load_record_types
from duban.records.importing import Problem, describe
from duban.records.models import ImportState, RecordImport
from duban.records.readers import RecordsError
from duban.testing import make_user

HEADER = "record_id,unit,date,type,class,quantity,place\n"
# Four good rows: two in COUNTY-A, one in its station, one in COUNTY-B.
GOOD = (
    HEADER + "R1,COUNTY-A,2024-01-05,case_filed,,,东街\n"
    "R2,COUNTY-A,2024/1/31,case_solved,,2,\n"
    "R3,STATION-A1,20240201,fugitive_caught,A,,西街\n"
    "R4,COUNTY-B,2024-02-03,fugitive_caught,本地,1.5,\n"
)


@pytest.fixture
def types(db: None) -> None:
    load_record_types()


@pytest.fixture
def office(tree, types):
    return make_user("city_office", tree.city, "office")


def write(tmp_path: Path, text: str, name: str = "records.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows() -> list[tuple[str, str, date, str, Decimal, dict[str, str]]]:
    """The held records as the record store gives them back, with the units' codes."""
    codes = dict(OrgUnit.objects.values_list("pk", "code"))
    return [
        (rid, codes[unit], day, grade, quantity, json.loads(attributes))
        for rid, _type, unit, day, grade, quantity, attributes in store.read()
    ]


EXPECTED = [
    ("R1", "COUNTY-A", date(2024, 1, 5), "", Decimal("1"), {"place": "东街"}),
    ("R2", "COUNTY-A", date(2024, 1, 31), "", Decimal("2"), {}),
    ("R3", "STATION-A1", date(2024, 2, 1), "A", Decimal("1"), {"place": "西街"}),
    ("R4", "COUNTY-B", date(2024, 2, 3), "local", Decimal("1.5"), {}),
]


def run(path: Path, office, tree, **kw) -> RecordImport:
    return services.import_file(path, name=path.name, user=office, unit=tree.city, **kw)


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [("utf-8", b"", "utf-8"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"), ("gb18030", b"", "gb18030")],
)
def test_a_clean_csv_is_applied_at_once_in_every_encoding(
    tmp_path, tree, office, encoding, prefix, expected
) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes(prefix + GOOD.encode(encoding))
    imp = run(path, office, tree)
    assert (imp.state, imp.encoding, imp.file_format) == (ImportState.APPLIED, expected, "csv")
    assert (imp.rows_read, imp.rows_new, imp.rows_known, imp.rows_bad) == (4, 4, 0, 0)
    assert rows() == EXPECTED
    assert store.held_files() == [str(store.path_of(imp.stored_as))]


def test_parquet_is_read_by_its_magic_bytes(tmp_path, tree, office) -> None:
    csv = write(tmp_path, GOOD)
    parquet = tmp_path / "records.bin"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * REPLACE (CAST(quantity AS DOUBLE) AS quantity) FROM read_csv('{csv}', all_varchar = true)) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    con.close()
    imp = run(parquet, office, tree)
    assert (imp.file_format, imp.rows_new, imp.rows_bad) == ("parquet", 4, 0)
    assert rows() == EXPECTED


def test_a_parquet_files_bad_rows_are_named_by_row_number(tmp_path, tree, office) -> None:
    csv = write(tmp_path, BAD)
    parquet = tmp_path / "bad.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{csv}', all_varchar = true)) TO '{parquet}' (FORMAT parquet)"
    )
    con.close()
    imp = run(parquet, office, tree)
    # The CSV's line 3 (its second row) is the Parquet file's row 2.
    assert [(p.line, p.kind) for p in services.problems_of(imp)][:2] == [
        (2, "unknown_unit"),
        (3, "out_of_scope"),
    ]
    assert (imp.rows_read, imp.rows_new, imp.rows_bad) == (10, 2, 8)


def test_chinese_headers_name_the_same_columns(tmp_path, tree, office) -> None:
    text = GOOD.replace(HEADER, "记录编号,单位代码,日期,类型,类别,数量,地点\n")
    imp = run(write(tmp_path, text, encoding="gb18030"), office, tree)
    assert imp.rows_new == 4
    assert [r[5] for r in rows()] == [{"地点": "东街"}, {}, {"地点": "西街"}, {}]


BAD = (
    HEADER + "R1,COUNTY-A,2024-01-05,case_filed,,,\n"  # line 2: good
    "R2,NOWHERE,2024-01-05,case_filed,,,\n"  # 3: unknown unit
    "R3,OTHER,2024-01-05,case_filed,,,\n"  # 4: outside the city
    "R4,COUNTY-A,2024-02-30,case_filed,,,\n"  # 5: no such date
    "R5,COUNTY-A,2024-01-05,burglary,,,\n"  # 6: unknown type
    "R1,COUNTY-B,2024-01-06,arrest,,,\n"  # 7: R1 again
    "R6,COUNTY-A,2024-01-05,arrest,,-1,\n"  # 8: negative quantity
    "R7,COUNTY-A,2024-01-05,fugitive_caught,C,,\n"  # 9: no class C
    ",COUNTY-A,,arrest,,many,\n"  # 10: no number, no date, bad quantity
    "R8,COUNTY-B,2024-03-01,arrest,,,\n"  # 11: good
)


def test_dates_in_every_spelling_and_none_outside_1900_to_2999(tmp_path, tree, office) -> None:
    days = ["2024-01-05", "2024/1/6", "20240107", "2024年1月8日", "2024-01-09 10:30:00",
            "99999-01-01", "1899-12-31", "05/01/2024"]  # fmt: skip
    text = HEADER + "".join(f"R{n},COUNTY-A,{d},case_filed,,,\n" for n, d in enumerate(days))
    imp = run(write(tmp_path, text), office, tree)
    assert [(p.line, p.value) for p in services.problems_of(imp)] == [
        (7, "99999-01-01"), (8, "1899-12-31"), (9, "05/01/2024")
    ]  # fmt: skip
    imp = services.apply_import(imp, user=office)
    assert [r[3] for r in store.read()] == [date(2024, 1, d) for d in range(5, 10)]


def test_each_bad_row_is_named_by_its_line_and_field_and_the_import_waits(
    tmp_path, tree, office
) -> None:
    imp = run(write(tmp_path, BAD), office, tree)
    assert imp.state == ImportState.WAITING
    assert (imp.rows_read, imp.rows_new, imp.rows_known, imp.rows_bad) == (10, 2, 0, 8)
    assert [(p.line, p.field, p.kind, p.value) for p in services.problems_of(imp)] == [
        (3, "unit", "unknown_unit", "NOWHERE"),
        (4, "unit", "out_of_scope", "OTHER"),
        (5, "date", "bad_date", "2024-02-30"),
        (6, "type", "unknown_type", "burglary"),
        (7, "record_id", "repeated", "R1"),
        (8, "quantity", "bad_quantity", "-1"),
        (9, "class", "bad_class", "C"),
        (10, "record_id", "missing", ""),
        (10, "date", "missing", ""),
        (10, "quantity", "bad_quantity", "many"),
    ]
    assert services.problems_of(imp)[4].other == 2
    assert store.count() == 0  # nothing until decided


def test_problems_read_in_the_readers_language() -> None:
    p = Problem(7, "record_id", "repeated", "R1", 2)
    with translation.override("zh-hans"):
        assert describe(p) == "记录编号 R1 重复：第 2 行也有"
    with translation.override("en"):
        assert describe(p) == "duplicate record number R1: it is also on line 2"


def test_apply_writes_the_good_rows_and_leaves_out_the_bad(tmp_path, tree, office) -> None:
    imp = run(write(tmp_path, BAD), office, tree)
    services.apply_import(imp, user=office)
    imp.refresh_from_db()
    assert (imp.state, imp.rows_new, imp.decided_by) == (ImportState.APPLIED, 2, office)
    assert [r[0] for r in rows()] == ["R1", "R8"]
    with pytest.raises(RecordsError):
        services.apply_import(imp, user=office)  # decided once


def test_refuse_writes_nothing_and_leaves_the_data_as_it_was(tmp_path, tree, office) -> None:
    run(write(tmp_path, GOOD, name="first.csv"), office, tree)
    before = rows()
    imp = run(write(tmp_path, BAD.replace("R1,", "R9,"), name="bad.csv"), office, tree)
    services.refuse_import(imp, user=office)
    imp.refresh_from_db()
    assert imp.state == ImportState.REFUSED
    assert rows() == before
    with pytest.raises(RecordsError):
        services.apply_import(imp, user=office)


def test_the_same_file_again_changes_nothing(tmp_path, tree, office) -> None:
    path = write(tmp_path, GOOD)
    run(path, office, tree)
    before = rows()
    again = run(path, office, tree)
    assert (again.state, again.rows_new, again.rows_known, again.rows_bad) == (
        ImportState.APPLIED,
        0,
        4,
        0,
    )
    assert rows() == before


def test_the_records_held_are_looked_up_in_batches(tmp_path, tree, office, monkeypatch) -> None:
    from duban.records import importing

    monkeypatch.setattr(importing, "LOOKUP", 3)  # four numbers: two lookups on SQLite
    path = write(tmp_path, GOOD)
    run(path, office, tree)
    again = run(path, office, tree)
    assert (again.rows_new, again.rows_known, again.rows_bad) == (0, 4, 0)


def test_a_known_number_with_other_content_is_a_bad_row(tmp_path, tree, office) -> None:
    run(write(tmp_path, GOOD), office, tree)
    changed = GOOD.replace(
        "R2,COUNTY-A,2024/1/31,case_solved,,2,", "R2,COUNTY-A,2024/1/31,case_solved,,3,"
    )
    imp = run(write(tmp_path, changed, name="again.csv"), office, tree)
    assert (imp.rows_new, imp.rows_known, imp.rows_bad) == (0, 3, 1)
    assert [(p.line, p.kind) for p in services.problems_of(imp)] == [(3, "held_other")]


def test_apply_checks_again_and_stops_when_the_bad_rows_changed(tmp_path, tree, office) -> None:
    waiting = run(write(tmp_path, BAD, name="bad.csv"), office, tree)
    # Meanwhile R8 comes in with other content: applying now would be another decision.
    run(write(tmp_path, HEADER + "R8,COUNTY-B,2024-03-02,arrest,,,\n", name="r8.csv"), office, tree)
    with pytest.raises(RecordsError, match="再次检查"):
        services.apply_import(waiting, user=office)
    waiting.refresh_from_db()
    assert waiting.state == ImportState.WAITING
    assert waiting.rows_bad == 9
    services.apply_import(waiting, user=office)
    assert [r[0] for r in store.read()] == ["R1", "R8"]


def test_the_command_apply_option_writes_the_good_rows_at_once(tmp_path, tree, office) -> None:
    imp = run(write(tmp_path, BAD), office, tree, apply_good=True)
    assert (imp.state, imp.rows_new, imp.rows_bad) == (ImportState.APPLIED, 2, 8)


def test_a_unit_outside_the_importers_reach_is_refused(tmp_path, tree, types) -> None:
    county_office = make_user("county_office", tree.county_a, "office")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.import_file(
            write(tmp_path, GOOD), name="r.csv", user=county_office, unit=tree.city
        )
    imp = services.import_file(
        write(tmp_path, GOOD), name="r.csv", user=county_office, unit=tree.county_a
    )
    assert [(p.line, p.kind) for p in services.problems_of(imp)] == [(5, "out_of_scope")]


def test_a_reporter_may_not_import(tmp_path, tree, types) -> None:
    from django.core.exceptions import PermissionDenied

    reporter = make_user("rep", tree.county_a, "reporter")
    with pytest.raises(PermissionDenied):
        services.import_file(write(tmp_path, GOOD), name="r.csv", user=reporter, unit=tree.county_a)


def test_file_level_problems_are_refused_at_once(tmp_path, tree, office) -> None:
    with pytest.raises(RecordsError, match="日期"):
        run(write(tmp_path, "record_id,unit,type\nR1,COUNTY-A,arrest\n"), office, tree)
    with pytest.raises(RecordsError):
        run(write(tmp_path, ""), office, tree)
    with pytest.raises(RecordsError, match="GB18030"):
        run(
            write(tmp_path, "x") if False else _bytes(tmp_path, b"record_id\n\xff\xff\xff\n"),
            office,
            tree,
        )
    assert RecordImport.objects.count() == 0


def _bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "bytes.csv"
    path.write_bytes(data)
    return path


def test_the_audit_trail_records_the_import_not_its_rows(tmp_path, tree, office) -> None:
    imp = run(write(tmp_path, GOOD), office, tree)
    entries = AuditEntry.objects.filter(object_type="records.recordimport", object_id=str(imp.pk))
    assert [e.action for e in entries] == [
        "records.recordimport.created",
        "records.recordimport.updated",
    ]
    created = entries[0].after
    assert created["sha256"] == imp.sha256 and created["rows_new"] == 4
    assert "problems" not in created
    # The trail names the record store's file the rows went to, not each row.
    assert entries[1].after["stored_as"] == imp.stored_as != ""
    assert AuditEntry.objects.filter(object_type="records.recordimport").count() == len(entries)


def test_the_system_imports_from_the_shell(tmp_path, tree, types) -> None:
    imp = services.import_file(write(tmp_path, GOOD), name="r.csv", user=SYSTEM, unit=tree.province)
    assert (imp.rows_new, imp.imported_by) == (4, None)


def test_attributes_spelt_otherwise_are_the_same_content(tmp_path, tree, office) -> None:
    """A record held with its attributes spelt another way (keys in another order, spaces: as
    the move from the old table wrote them) is the same record, not a bad row."""
    from duban.records.models import RecordImport

    first = run(write(tmp_path, GOOD), office, tree)
    held = store.read()
    respelt = [(*r[:6], json.dumps(json.loads(r[6]), ensure_ascii=False, indent=1)) for r in held]
    assert respelt[0][6] != held[0][6]  # another spelling
    first.stored_as = store.write_rows(respelt, first.pk)
    RecordImport.objects.filter(pk=first.pk).update(stored_as=first.stored_as)
    again = run(write(tmp_path, GOOD, name="again.csv"), office, tree)
    assert (again.rows_new, again.rows_known, again.rows_bad) == (0, 4, 0)
