"""`duban backup` and `duban restore`: a round trip keeps every row and file and a trail that
verifies; a damaged or altered archive is refused and leaves the target as it was."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from duban.audit.models import AuditEntry
from duban.audit.verify import anchor_chain
from duban.core.backups import MANIFEST, BackupRefused, check_archive, make_backup
from duban.core.restores import restore
from duban.orgs.policy import SYSTEM
from duban.reporting.models import EDITABLE_STATES, Submission

# Committed rows only: pg_dump reads from its own connection, and SQLite's backup API waits
# for the test transaction's lock on the shared in-memory database.
pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def source(settings: Any, tmp_path: Path) -> Path:
    """The live installation's files: uploads and the anchor in a folder of the test's."""
    settings.MEDIA_ROOT = tmp_path / "source" / "media"
    settings.DUBAN_AUDIT_ANCHOR = tmp_path / "source" / "audit-anchor.jsonl"
    (tmp_path / "source").mkdir()
    return tmp_path / "source"


def _world() -> None:
    """The demo's organisations, accounts and figures (its activity aside: slow, and nothing
    different for a backup), one evidence file, and an anchor."""
    from duban.demo.loader import load_demo
    from duban.reporting import services
    from duban.reporting.demo import load_reporting_demo

    load_demo(activity=False)
    load_reporting_demo()
    sub = Submission.objects.filter(state__in=EDITABLE_STATES).order_by("id").first()
    assert sub is not None
    services.attach_evidence(sub, "立案清单.pdf", PDF, user=SYSTEM)
    _verification, line = anchor_chain()
    assert line is not None


def _duban(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "duban", *args], env=env, capture_output=True, text=True, timeout=600
    )


def _target_env(settings: Any, data_dir: Path, database_url: str | None) -> dict[str, str]:
    """Another installation on this machine: its own data directory and database, the same
    audit key (it travels beside the backups, not in them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DUBAN_", "DATABASE_URL"))}
    env.update(
        DUBAN_DATA_DIR=str(data_dir),
        DUBAN_AUDIT_KEY=settings.DUBAN_AUDIT_KEY,
        DJANGO_SETTINGS_MODULE="duban.settings",
        LANG="C.UTF-8",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@pytest.fixture
def target_database() -> Iterator[str | None]:
    """None on SQLite (the target's file in its data directory); on PostgreSQL a scratch
    database with a name of its own, dropped after."""
    if connection.vendor != "postgresql":
        yield None
        return
    import psycopg

    s = connection.settings_dict
    name = f"duban_restore_{uuid.uuid4().hex[:12]}"
    params = {"dbname": "postgres", "user": s["USER"], "host": s["HOST"], "port": s["PORT"]}
    params |= {"password": s["PASSWORD"]} if s.get("PASSWORD") else {}
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = f"{s['USER']}:{s['PASSWORD']}" if s.get("PASSWORD") else s["USER"]
    try:
        yield f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name}"
    finally:
        with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(database_url: str | None, sqlite_file: Path | None = None) -> dict[str, list[Any]]:
    """Every table's rows, read the same way on both sides: SQLite with Django's converters,
    PostgreSQL through psycopg (the source through a connection of its own: committed rows)."""
    if connection.vendor == "sqlite":
        import sqlite3

        if sqlite_file is None:
            db = connection.connection
        else:
            db = sqlite3.connect(
                sqlite_file, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
            )
        query = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        names = [r[0] for r in db.execute(query).fetchall()]
        rows = {n: db.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}
        if sqlite_file is not None:
            db.close()
        return rows
    import psycopg

    s = connection.settings_dict
    params = {
        "dbname": s["NAME"],
        "user": s["USER"],
        "password": s["PASSWORD"],
        "host": s["HOST"],
        "port": s["PORT"],
    }
    conninfo = {k: v for k, v in params.items() if v}
    with psycopg.connect(database_url) if database_url else psycopg.connect(**conninfo) as conn:
        names = [
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}


def test_the_demo_round_trips_with_its_trail_and_files(
    source: Path, settings: Any, tmp_path: Path, target_database: str | None
) -> None:
    _world()
    made = make_backup(tmp_path / "backups")
    assert made.path.name.endswith(".tar.gz") and made.path.stat().st_mode & 0o077 == 0
    entry = AuditEntry.objects.filter(action="audit.backup.created").get()
    assert entry.source == "duban backup" and entry.after["sha256"] and entry.after["files"] == 3
    manifest = made.manifest
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["database"]["migration_heads"]["audit"].startswith("00")
    evidence = [n for n in manifest["files"] if n.startswith("media/evidence/")]
    assert len(evidence) == 1 and "audit-anchor.jsonl" in manifest["files"]
    # The head in the manifest is the dump's: the backup's own entry came after it.
    assert manifest["audit"]["head"]["count"] == AuditEntry.objects.count() - 1

    target = tmp_path / "target"
    env = _target_env(settings, target, target_database)
    checked = _duban(env, "restore", "--check", str(made.path))
    assert checked.returncode == 0, checked.stderr
    assert "备份完好" in checked.stdout
    done = _duban(env, "restore", str(made.path))
    assert done.returncode == 0, done.stderr
    assert "已恢复" in done.stdout

    for args in (["audit", "verify"], ["audit", "verify", "--data"]):
        verified = _duban(env, *args)
        assert verified.returncode == 0, verified.stderr
        assert "chain verified" in verified.stdout
    assert "1 anchor line(s) agree" in _duban(env, "audit", "verify").stdout

    connection.ensure_connection()
    before = _rows(None)
    after = _rows(target_database, target / "duban.sqlite3")
    entries = AuditEntry._meta.db_table
    kept = manifest["audit"]["head"]["count"]
    assert after[entries][:kept] == before[entries][:kept]
    assert len(after[entries]) == kept + 1  # and the restore's own entry
    assert after[entries][-1][list(_columns(entries)).index("action")] == "audit.backup.restored"
    skip = {entries, "audit_audithead", "django_session"}
    assert {n: r for n, r in after.items() if n not in skip} == {
        n: r for n, r in before.items() if n not in skip
    }
    for name in evidence:
        relative = name.removeprefix("media/")
        assert (
            (target / "media" / relative).read_bytes()
            == (source / "media" / relative).read_bytes()
            == PDF
        )

    # Again, over the restored copy: refused without --force; with it, the old copy is kept
    # aside (on PostgreSQL its tables are dropped in the transaction that loads the dump).
    refused = _duban(env, "restore", str(made.path))
    assert refused.returncode == 1 and "--force" in refused.stderr
    again = _duban(env, "restore", "--force", str(made.path))
    assert again.returncode == 0, again.stderr
    assert "原有内容另存于" in again.stdout and list(target.glob("media.pre-restore-*"))
    if target_database is None:
        assert list(target.glob("duban.sqlite3.pre-restore-*"))
    assert _duban(env, "audit", "verify", "--data").returncode == 0
    assert len(_rows(target_database, target / "duban.sqlite3")[entries]) == kept + 1


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


# Refusals ------------------------------------------------------------------------------------


@pytest.fixture
def archive(source: Path, tree: Any, tmp_path: Path) -> Path:
    """A small world's backup, uncompressed so single bytes can be changed."""
    media = source / "media" / "evidence"
    media.mkdir(parents=True)
    (media / "a.pdf").write_bytes(PDF)
    return make_backup(tmp_path / "small.tar").path


def _rewrite(path: Path, change: Any) -> None:
    """Copy the archive member by member through `change(name, data)` (None drops it)."""
    with tarfile.open(path) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]  # type: ignore[union-attr]
    with tarfile.open(path, "w") as tar:
        for member, data in members:
            data = change(member.name, data)
            if data is not None:
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))


def _flip_byte(path: Path, member_name: str) -> None:
    with tarfile.open(path) as tar:
        offset = tar.getmember(member_name).offset_data
    with path.open("r+b") as f:
        f.seek(offset + 100)
        byte = f.read(1)
        f.seek(offset + 100)
        f.write(bytes([byte[0] ^ 0x01]))


def _untouched(source: Path) -> tuple[int, bytes, bytes]:
    return (
        AuditEntry.objects.count(),
        (source / "media" / "evidence" / "a.pdf").read_bytes(),
        Path(source / "audit-anchor.jsonl").read_bytes()
        if (source / "audit-anchor.jsonl").exists()
        else b"",
    )


def test_a_changed_byte_is_refused_and_the_target_stays_as_it_was(
    archive: Path, source: Path
) -> None:
    _flip_byte(archive, "database.sqlite3" if connection.vendor == "sqlite" else "database.pgdump")
    before = _untouched(source)
    with pytest.raises(BackupRefused) as refused:
        restore(archive, force=True)
    assert refused.value.message == "备份已损坏或被改动，未恢复任何内容。"
    assert any("database." in p and "被改动" in p for p in refused.value.problems)
    assert _untouched(source) == before
    assert not list(source.parent.glob(".duban-restore-*"))


def test_a_missing_file_is_refused_by_name(archive: Path, source: Path) -> None:
    _rewrite(archive, lambda name, data: None if name == "media/evidence/a.pdf" else data)
    before = _untouched(source)
    with pytest.raises(BackupRefused) as refused:
        restore(archive, force=True)
    assert refused.value.problems == ["备份中缺少 media/evidence/a.pdf"]
    assert _untouched(source) == before


def test_a_manifest_rewritten_to_match_a_changed_file_is_refused(archive: Path) -> None:
    import hashlib
    import json

    forged = b"%PDF-1.4 forged"

    def change(name: str, data: bytes) -> bytes:
        if name == "media/evidence/a.pdf":
            return forged
        if name == MANIFEST:
            manifest = json.loads(data)
            manifest["files"]["media/evidence/a.pdf"] = {
                "sha256": hashlib.sha256(forged).hexdigest(),
                "size": len(forged),
            }
            return json.dumps(manifest).encode()
        return data

    _rewrite(archive, change)
    with pytest.raises(BackupRefused, match="清单被改动"):
        check_archive(archive)


def test_a_damaged_compressed_archive_is_refused(source: Path, tree: Any, tmp_path: Path) -> None:
    path = make_backup(tmp_path).path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BackupRefused, match=r"已损坏|被改动"):
        check_archive(path)


def test_another_audit_key_is_named(archive: Path) -> None:
    with (
        override_settings(DUBAN_AUDIT_KEY="k" * 64),
        pytest.raises(BackupRefused, match="审计密钥"),
    ):
        check_archive(archive)


def test_a_target_holding_data_needs_force(archive: Path, source: Path) -> None:
    before = _untouched(source)
    with pytest.raises(BackupRefused, match="--force"):
        restore(archive)
    assert _untouched(source) == before


def test_the_command_refuses_in_chinese_with_each_problem(
    archive: Path, settings: Any, tmp_path: Path
) -> None:
    _rewrite(archive, lambda name, data: None if name == "media/evidence/a.pdf" else data)
    target = tmp_path / "target"
    env = _target_env(settings, target, None)
    env["DATABASE_URL"] = f"sqlite:///{target / 'duban.sqlite3'}"
    done = _duban(env, "restore", "--check", str(archive))
    assert done.returncode == 1
    assert "备份中缺少 media/evidence/a.pdf" in done.stderr
    assert "备份已损坏或被改动，未恢复任何内容。" in done.stderr
    assert not (target / "duban.sqlite3").exists() and not (target / "media").exists()


def test_the_backup_reads_as_a_sentence_on_the_history(
    source: Path, tree: Any, tmp_path: Path
) -> None:
    from django.utils import translation

    from duban.audit.types import render

    made = make_backup(tmp_path)
    entry = AuditEntry.objects.get(action="audit.backup.created")
    with translation.override("zh-hans"):
        row = render([entry])[0]
    count = made.manifest["audit"]["head"]["count"]
    assert row.label == "已备份" and count > 0
    assert row.text == f"已制作备份 {made.path.name}，含 {count} 条审计记录"


def test_a_backup_inside_a_transaction_is_refused(source: Path, tmp_path: Path) -> None:
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError, match="outside a transaction"):
        make_backup(tmp_path)
    assert not list(tmp_path.glob("*.tar*"))
