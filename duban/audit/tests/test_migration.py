"""Migration audit 0002: the unkeyed chain of existing installations is checked, then keyed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from duban.audit import chain
from duban.audit.models import AuditEntry
from duban.audit.verify import verify_chain

OLD = [("audit", "0001_initial")]
NEW = [("audit", "0002_keyed_chain")]


def migrate(target: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.fixture
def legacy(transactional_db) -> Iterator[Callable[[int], list[Any]]]:
    """Back at 0001, a factory of unkeyed chains; forward again (and emptied) afterwards."""
    apps = migrate(OLD)
    Entry, Head = apps.get_model("audit", "AuditEntry"), apps.get_model("audit", "AuditHead")

    def make(n: int) -> list[Any]:
        prev, entries = chain.GENESIS, []
        for i in range(n):
            e = Entry(
                at=timezone.now().replace(microsecond=0),
                actor_name="old",
                source="web",
                action=f"test.event{i}",
                object_type="test",
                object_repr=f"事件 {i}",
                after={"n": i, "列": ["甲", None]},
                reason="",
                prev_hash=prev,
            )
            e.hash = chain.legacy_hash(e)
            e.save()
            prev = e.hash
            entries.append(e)
        Head.objects.create(pk=1, last_entry_id=entries[-1].pk, last_hash=prev, count=n)
        return entries

    yield make
    with connection.cursor() as cur:
        cur.execute("DELETE FROM audit_auditentry")
        cur.execute("DELETE FROM audit_audithead")
    migrate(NEW)


def test_an_intact_chain_is_keyed_and_the_rekeying_recorded(legacy) -> None:
    old = legacy(3)
    migrate(NEW)
    result = verify_chain()
    assert result.ok and result.entries == 4
    assert not [w for w in result.warnings if "re-signed" in w]
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert [e.action for e in entries[:3]] == [e.action for e in old]
    rekeyed = entries[-1]
    assert rekeyed.action == "audit.chain.rekeyed"
    assert rekeyed.after == {"entries": 3, "sha256_head": old[-1].hash, "problems": []}


def test_going_back_restores_the_unkeyed_chain(legacy) -> None:
    legacy(2)
    migrate(NEW)
    apps = migrate(OLD)
    Entry = apps.get_model("audit", "AuditEntry")
    prev = chain.GENESIS
    for e in Entry.objects.order_by("pk"):
        assert (e.prev_hash, e.hash) == (prev, chain.legacy_hash(e))
        prev = e.hash


def test_a_broken_chain_is_not_signed(legacy) -> None:
    old = legacy(3)
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditentry SET reason = 'forged' WHERE id = %s", [old[1].pk])
    with pytest.raises(RuntimeError, match=rf"entry #{old[1].pk}: does not match its hash"):
        migrate(NEW)


def test_a_broken_chain_signed_on_request_keeps_its_problems(legacy, monkeypatch) -> None:
    old = legacy(3)
    with connection.cursor() as cur:
        cur.execute("UPDATE audit_auditentry SET reason = 'forged' WHERE id = %s", [old[1].pk])
    monkeypatch.setenv("DUBAN_AUDIT_REKEY_BROKEN", "1")
    migrate(NEW)
    result = verify_chain()
    assert result.ok
    assert any("re-signed although 1 problem(s)" in w for w in result.warnings)
