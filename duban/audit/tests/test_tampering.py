"""Tampering with the trail behind the application's back, one case each, done with raw SQL.

Each case must fail `duban audit verify` with a message that names what happened. The cases
marked "passed before" are the reproductions of issue 10, item 8: the unkeyed chain, walked
from id 1 without positions or an anchor, reported them intact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from duban.audit import chain
from duban.audit.anchor import append_anchor
from duban.audit.context import acting_as
from duban.audit.models import AuditEntry, AuditHead
from duban.audit.services import record
from duban.audit.verify import verify_chain
from duban.orgs.models import OrgUnit
from duban.testing import make_unit, make_user

ENTRY = connection.ops.quote_name(AuditEntry._meta.db_table)
HEAD = connection.ops.quote_name(AuditHead._meta.db_table)
CONTENT = ("action", "object_type", "object_id", "object_repr", "reason", "before", "after")


def sql(query: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    with connection.cursor() as cur:
        cur.execute(query.replace("{entry}", ENTRY).replace("{head}", HEAD), params)


@dataclass
class Chain:
    entries: list[AuditEntry]
    anchor: Path

    def head_at(self, n: int) -> tuple[int, int, str, str]:
        """The head row as it stood after the n-th entry: what a backup of it would hold."""
        e = self.entries[n - 1]
        return (n, e.pk, e.hash, chain.head_mac(n, e.pk, e.hash))


@pytest.fixture
def trail(db, anchor_file: Path) -> Chain:
    """Six entries of several kinds, the head anchored after the last."""
    actor = make_user("actor")
    with acting_as(actor=actor, ip="10.1.2.3", source="web"):
        unit = make_unit("U1", None, level="city", name_zh="旧名")
        unit.name_zh = "新名"
        unit.save()
        make_unit("U2", unit)
        record(
            "test.event", object_type="test", object_repr="一件事", after={"n": 1}, reason="为何"
        )
        make_unit("U3", unit)
    result = verify_chain()
    assert result.ok and result.entries == 6
    append_anchor(result.entries, result.last_id, result.last_hash)
    return Chain(list(AuditEntry.objects.order_by("pk")), anchor_file)


def resign(entries: list[AuditEntry], sign: Callable[[AuditEntry], str], start: int) -> None:
    """Rewrite hashes and links from `start` on, as a forger recomputing the chain would, and
    point the head at the new last hash."""
    prev = entries[start - 1].hash if start else chain.GENESIS
    for e in AuditEntry.objects.order_by("pk")[start:]:
        e.prev_hash = prev
        e.hash = sign(e)
        sql(
            "UPDATE {entry} SET prev_hash = %s, hash = %s WHERE id = %s",
            [e.prev_hash, e.hash, e.pk],
        )
        prev = e.hash
    sql("UPDATE {head} SET last_hash = %s", [prev])


def insert(
    *, id: int, seq: int, prev_hash: str, hash: str, at: Any, action: str = "orgs.unit.created"
) -> None:
    sql(
        "INSERT INTO {entry} (id, seq, at, actor_name, source, action, object_type, object_id, "
        "object_repr, reason, prev_hash, hash, unit_id) "
        "VALUES (%s, %s, %s, 'intruder', 'sql', %s, 'orgs.orgunit', '', 'forged', '', %s, %s, %s)",
        [id, seq, at, action, prev_hash, hash, None],
    )


def edit_one_field(c: Chain) -> None:
    sql("UPDATE {entry} SET reason = %s WHERE id = %s", ["forged", c.entries[2].pk])


def edit_and_rehash_with_sha256(c: Chain) -> None:
    edit_one_field(c)
    resign(c.entries, chain.legacy_hash, 2)


def edit_and_resign_with_another_key(c: Chain) -> None:
    edit_one_field(c)
    resign(c.entries, lambda e: chain.entry_mac(e, key=b"a key guessed by the intruder"), 2)


def delete_in_the_middle(c: Chain) -> None:
    sql("DELETE FROM {entry} WHERE id = %s", [c.entries[2].pk])


def insert_in_the_middle(c: Chain) -> None:
    """Make room by moving the later entries up one id and one position, then fill it."""
    e = c.entries[2]
    sql("UPDATE {entry} SET id = id + 1000, seq = seq + 1000 WHERE id >= %s", [e.pk])
    sql("UPDATE {entry} SET id = id - 999, seq = seq - 999 WHERE id >= %s", [e.pk + 1000])
    insert(id=e.pk, seq=e.seq, prev_hash=c.entries[1].hash, hash="f" * 64, at=e.at)
    sql("UPDATE {head} SET count = count + 1, last_entry_id = last_entry_id + 1")


def insert_with_id_zero(c: Chain) -> None:
    insert(id=0, seq=0, prev_hash=chain.GENESIS, hash="e" * 64, at=c.entries[0].at)


def insert_with_a_negative_id(c: Chain) -> None:
    insert(id=-7, seq=1000, prev_hash=c.entries[-1].hash, hash="d" * 64, at=c.entries[0].at)


def swap_two_entries(c: Chain) -> None:
    """Exchange everything but the ids and positions of two neighbours."""
    a, b = c.entries[2], c.entries[3]
    fields = (*CONTENT, "prev_hash", "hash")
    sets = ", ".join(f"{f} = %s" for f in fields)
    for n, e in enumerate((a, b)):  # free both hashes first: they are unique
        sql("UPDATE {entry} SET hash = %s WHERE id = %s", [str(n) * 64, e.pk])
    for target, source in ((a, b), (b, a)):
        values = [getattr(source, f) for f in fields]
        values = [
            json.dumps(v) if f in ("before", "after") and v is not None else v
            for f, v in zip(fields, values, strict=True)
        ]
        sql(f"UPDATE {{entry}} SET {sets} WHERE id = %s", [*values, target.pk])


def renumber_the_ids(c: Chain) -> None:
    sql("UPDATE {entry} SET id = id + 100")
    sql("UPDATE {head} SET last_entry_id = last_entry_id + 100")


def change_a_position(c: Chain) -> None:
    sql("UPDATE {entry} SET seq = seq + 100 WHERE id = %s", [c.entries[2].pk])


def delete_from_the_end(c: Chain) -> None:
    sql("DELETE FROM {entry} WHERE id >= %s", [c.entries[-2].pk])


def delete_from_the_end_and_restore_an_older_head(c: Chain) -> None:
    delete_from_the_end(c)
    count, last, last_hash, mac = c.head_at(len(c.entries) - 2)
    sql(
        "UPDATE {head} SET count = %s, last_entry_id = %s, last_hash = %s, mac = %s",
        [count, last, last_hash, mac],
    )


def delete_everything(c: Chain) -> None:
    sql("DELETE FROM {entry}")
    sql("DELETE FROM {head}")


def edit_the_heads_hash(c: Chain) -> None:
    sql("UPDATE {head} SET last_hash = %s", ["a" * 64])


def edit_the_heads_count(c: Chain) -> None:
    sql("UPDATE {head} SET count = count + 5")


def delete_the_head(c: Chain) -> None:
    sql("DELETE FROM {head}")


def forge_an_anchor_line(c: Chain) -> None:
    line = json.loads(c.anchor.read_text().splitlines()[-1])
    line.update(seq=2, last_id=c.entries[1].pk, last_hash=c.entries[1].hash)
    line["mac"] = hashlib.sha256(json.dumps(line).encode()).hexdigest()
    with c.anchor.open("a") as f:
        f.write(json.dumps(line) + "\n")


def edit_the_anchor_line(c: Chain) -> None:
    """Lower the anchored count, hoping the next cut goes unnoticed."""
    text = c.anchor.read_text().replace('"seq": 6', '"seq": 4')
    c.anchor.write_text(text)


# (case, tamper, kinds that must be reported, a phrase the report must contain, passed before)
CASES = [
    ("edit one field", edit_one_field, {"mac"}, "does not match its MAC", False),
    ("edit, re-hash with SHA-256", edit_and_rehash_with_sha256, {"mac"}, "plain SHA-256", True),
    ("edit, re-sign with another key", edit_and_resign_with_another_key, {"mac"}, "another key", True),
    ("delete in the middle", delete_in_the_middle, {"seq", "link"}, "1 entry is missing", False),
    ("insert in the middle", insert_in_the_middle, {"mac", "link"}, "does not link", False),
    ("insert with id 0", insert_with_id_zero, {"id"}, "id below 1", True),
    ("insert with a negative id", insert_with_a_negative_id, {"id"}, "id below 1", True),
    ("swap two entries", swap_two_entries, {"mac", "link"}, "does not match its MAC", False),
    ("renumber the ids", renumber_the_ids, {"mac", "head"}, "id or position", True),
    ("change a position", change_a_position, {"seq", "mac"}, "positions repeat or go back", False),
    ("delete from the end", delete_from_the_end, {"head", "anchor"}, "deleted from the end", False),
    ("cut the end, restore an older head", delete_from_the_end_and_restore_an_older_head, {"anchor"}, "entries were deleted", True),
    ("delete every entry and the head", delete_everything, {"anchor"}, "whole trail was deleted", True),
    ("edit the head's hash", edit_the_heads_hash, {"head"}, "does not match its MAC", False),
    ("edit the head's count", edit_the_heads_count, {"head"}, "head records 11 entries", False),
    ("delete the head", delete_the_head, {"head"}, "head row is missing", False),
    ("forge an anchor line", forge_an_anchor_line, {"anchor"}, "forged or edited", False),
    ("edit an anchor line", edit_the_anchor_line, {"anchor"}, "forged or edited", False),
]  # fmt: skip


def test_an_untouched_chain_verifies_with_its_anchor(trail: Chain) -> None:
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().strip() == (
        "audit trail intact: 6 entries, chain verified; 1 anchor line(s) agree"
    )


@pytest.mark.parametrize(
    ("tamper", "kinds", "phrase"),
    [pytest.param(t, k, p, id=name) for name, t, k, p, _before in CASES],
)
def test_tampering_fails_verify_and_says_what_happened(
    trail: Chain, tamper: Callable[[Chain], None], kinds: set[str], phrase: str
) -> None:
    tamper(trail)
    result = verify_chain()
    found = {p.kind for p in result.problems}
    report = "\n".join(str(p) for p in result.problems)
    assert not result.ok
    assert kinds <= found, report
    assert phrase in report, report
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify")


def test_only_the_anchor_catches_a_cut_with_an_older_head(trail: Chain) -> None:
    delete_from_the_end_and_restore_an_older_head(trail)
    assert {p.kind for p in verify_chain().problems} == {"anchor"}
    trail.anchor.unlink()
    assert verify_chain().ok  # why the anchor belongs outside the database


def test_the_problems_name_the_entry(trail: Chain) -> None:
    insert_with_id_zero(trail)
    edit_one_field(trail)
    problems = verify_chain().problems
    assert [(p.entry_id, p.kind) for p in problems] == [(0, "id"), (trail.entries[2].pk, "mac")]
    assert str(problems[0]).startswith("entry #0 at position 0: orgs.unit.created 'forged'")


def test_an_entry_with_id_zero_is_flagged_where_it_shows(trail: Chain, client) -> None:
    unit = OrgUnit.objects.get(code="U1")
    insert_with_id_zero(trail)
    sql("UPDATE {entry} SET unit_id = %s WHERE id = 0", [unit.pk])
    client.force_login(make_user("auditor", unit, "audit_admin"))
    page = client.get("/audit/units/U1/").content.decode()
    assert "forged" in page and page.count("完整性校验未通过") == 1
    rows = client.get("/api/audit/units/U1/entries").json()
    assert [(r["id"], r["intact"]) for r in rows if not r["intact"]] == [(0, False)]
