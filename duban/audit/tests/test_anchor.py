"""The anchor: signed copies of the head outside the database, written by `duban audit anchor`
and by the daily pass, checked line by line by `duban audit verify`."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from duban.audit import chain, verify
from duban.audit.anchor import append_anchor, database_identity
from duban.audit.models import AuditEntry
from duban.audit.verify import verify_chain
from duban.testing import make_unit


def units(*codes: str) -> None:
    for code in codes:
        make_unit(code, None, level="city")


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(t) for t in path.read_text().splitlines()]


def anchor_now() -> None:
    result = verify_chain()
    append_anchor(result.entries, result.last_id, result.last_hash)


@pytest.mark.django_db(transaction=True)
def test_anchor_appends_a_signed_line_that_verify_checks(anchor_file: Path) -> None:
    units("A", "B")
    out = StringIO()
    call_command("audit", "anchor", stdout=out)
    units("C")
    call_command("audit", "anchor", stdout=StringIO())
    first, second = lines(anchor_file)
    assert json.loads(out.getvalue()) == first
    last = AuditEntry.objects.order_by("pk")[1]
    assert (first["seq"], first["last_id"], first["last_hash"]) == (2, last.pk, last.hash)
    assert first["db"] == database_identity() and first["mac"] == chain.anchor_mac(first)
    assert second["seq"] == 3
    assert stat.S_IMODE(anchor_file.stat().st_mode) == 0o600
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "2 anchor line(s) agree" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_anchor_refuses_to_sign_a_broken_chain(anchor_file: Path) -> None:
    units("A", "B")
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditentry SET reason = 'forged' WHERE id = 1")
    err = StringIO()
    with pytest.raises(CommandError, match="no anchor written"):
        call_command("audit", "anchor", stdout=StringIO(), stderr=err)
    assert "entry #1 at position 1: does not match its MAC" in err.getvalue()
    assert not anchor_file.exists()


def test_anchor_refuses_inside_a_transaction(db, anchor_file: Path) -> None:
    units("A")
    with pytest.raises(CommandError, match="outside a transaction"):
        call_command("audit", "anchor")
    assert not anchor_file.exists()


@pytest.mark.django_db(transaction=True)
def test_the_daily_pass_ends_by_anchoring(anchor_file: Path) -> None:
    units("A")
    out = StringIO()
    call_command("tasks_daily", "--today", "2017-06-01", stdout=out)
    assert "audit chain anchored: 1 entries ending at #1" in out.getvalue()
    assert [line["seq"] for line in lines(anchor_file)] == [1]


@pytest.mark.django_db(transaction=True)
def test_the_daily_pass_fails_loudly_on_a_broken_chain(anchor_file: Path) -> None:
    units("A")
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_audithead")
    with pytest.raises(CommandError, match="audit trail BROKEN"):
        call_command("tasks_daily", "--today", "2017-06-01", stdout=StringIO(), stderr=StringIO())
    assert not anchor_file.exists()


def test_the_daily_pass_inside_a_transaction_anchors_nothing(db, anchor_file: Path) -> None:
    units("A")
    out = StringIO()
    call_command("tasks_daily", "--today", "2017-06-01", stdout=out)
    assert "not anchored" in out.getvalue() and not anchor_file.exists()


def test_without_an_anchor_file_verify_warns_and_passes(db) -> None:
    units("A")
    result = verify_chain()
    assert result.ok and result.anchors == 0
    assert any("no anchor file" in w for w in result.warnings)
    err = StringIO()
    call_command("audit", "verify", stdout=StringIO(), stderr=err)
    assert "warning: no anchor file" in err.getvalue()


def test_lines_of_another_database_are_left_alone(db, anchor_file: Path) -> None:
    units("A")
    other = {"at": "2026-01-01T00:00:00+00:00", "db": "postgresql:elsewhere", "last_hash": "f"}
    other |= {"last_id": 900, "seq": 900}
    other["mac"] = chain.anchor_mac(other)
    anchor_file.write_text(json.dumps(other) + "\n")
    result = verify_chain()
    assert result.ok and result.anchors == 0
    assert any("postgresql:elsewhere" in w for w in result.warnings)


def test_an_anchor_with_fewer_entries_than_the_one_before_is_reported(db) -> None:
    units("A", "B", "C")
    anchor_now()
    e = AuditEntry.objects.order_by("pk")[1]
    append_anchor(2, e.pk, e.hash)  # signed, as after a restore from an older backup
    problems = [str(p) for p in verify_chain().problems]
    assert problems == [
        "anchor: line 2 records 2 entries, fewer than line 1 (3) before it: the chain was cut "
        "or restored from a backup in between"
    ]


def test_an_anchored_entry_replaced_by_a_forged_one_is_named(db) -> None:
    units("A", "B")
    anchor_now()
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditentry SET hash = %s WHERE id = 2", ["c" * 64])
        cur.execute("UPDATE audit_audithead SET last_hash = %s", ["c" * 64])
    kinds = {p.kind for p in verify_chain().problems if p.entry_id == 2}
    assert kinds == {"mac", "anchor"}


def test_entries_committed_after_the_walk_are_read_on(db, monkeypatch) -> None:
    """A writer that commits between the walk's last read and its read of the head."""
    units("A", "B")
    walks: list[int | None] = []
    real = verify._entries

    def entries(after: int | None, batch_size: int) -> Iterator[AuditEntry]:
        yield from real(after, batch_size)
        walks.append(after)
        if len(walks) == 1:
            units("LATE1", "LATE2")

    monkeypatch.setattr(verify, "_entries", entries)
    result = verify.verify_chain()
    assert result.ok, result.problems
    assert result.entries == 4 and walks == [None, 2]


@pytest.mark.django_db(transaction=True)
def test_an_anchor_file_that_cannot_be_written_or_read_is_said_so(settings, tmp_path: Path) -> None:
    units("A")
    settings.DUBAN_AUDIT_ANCHOR = tmp_path / "no such directory" / "anchor.jsonl"
    with pytest.raises(CommandError, match=r"cannot append to .*No such file or directory"):
        call_command("audit", "anchor")
    settings.DUBAN_AUDIT_ANCHOR = tmp_path  # a directory: exists, cannot be read as a file
    problems = [str(p) for p in verify_chain().problems]
    assert problems == [f"anchor: {tmp_path} cannot be read: Is a directory"]
