"""`duban records import|apply|refuse|types`: the same service as the page, as the system."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from duban.audit.models import AuditEntry
from duban.records import store
from duban.records.models import ImportState, RecordImport, RecordType

FILE = (
    "record_id,unit,date,type\n"
    "R1,COUNTY-A,2024-01-05,case_filed\n"
    "R2,NOWHERE,2024-01-05,case_filed\n"
    "R3,COUNTY-B,2024-01-06,arrest\n"
)


@pytest.fixture
def path(tmp_path, tree, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("records", "types")
    p = tmp_path / "r.csv"
    p.write_text(FILE, encoding="utf-8")
    return p


def test_types_are_created_once(path) -> None:
    assert RecordType.objects.count() == 6
    call_command("records", "types")
    assert RecordType.objects.count() == 6


def test_import_waits_then_apply_writes_the_good_rows(path, capsys) -> None:
    call_command("records", "import", str(path), "--unit", "PROV")
    out = capsys.readouterr()
    assert "r.csv 第 3 行：没有代码为 NOWHERE 的单位" in out.err
    imp = RecordImport.objects.get()
    assert imp.state == ImportState.WAITING and store.count() == 0
    call_command("records", "apply", str(imp.pk))
    assert [r[0] for r in store.read()] == ["R1", "R3"]
    entry = AuditEntry.objects.filter(action="records.recordimport.updated").last()
    assert entry is not None and entry.source == "duban records apply"


def test_import_with_apply_writes_at_once(path) -> None:
    call_command("records", "import", str(path), "--unit", "PROV", "--apply")
    assert RecordImport.objects.get().state == ImportState.APPLIED
    assert store.count() == 2


def test_refuse_and_the_errors_in_words(path) -> None:
    call_command("records", "import", str(path), "--unit", "PROV")
    imp = RecordImport.objects.get()
    call_command("records", "refuse", str(imp.pk))
    imp.refresh_from_db()
    assert imp.state == ImportState.REFUSED and store.count() == 0
    with pytest.raises(CommandError, match="已处理"):
        call_command("records", "apply", str(imp.pk))
    with pytest.raises(CommandError, match="多个根单位"):
        call_command("records", "import", str(path))  # PROV and OTHER: name the unit
