"""Verifying the audit trail: every entry by position, link and MAC; the head; the anchor;
and, with replayers, the tables against what the trail says was written to them.

The walk reads every row of the entry table in id order, ids below 1 included (the chain
starts at 1, so such a row was put there behind the application's back), in batches, so
memory stays flat however long the chain is. Entries that writers append while it runs are
picked up at the end by reading on from the last id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Protocol

from django.apps import apps
from django.db import connection
from django.utils.module_loading import module_has_submodule

from duban.audit.anchor import Anchor, AnchorFile, append_anchor, read_anchors
from duban.audit.chain import GENESIS, entry_mac, head_mac, plain_sha256, same
from duban.audit.models import AuditEntry, AuditHead

BATCH = 500
CONCURRENT_ROUNDS = 10


@dataclass(frozen=True)
class ChainProblem:
    """A break in the chain: `entry_id` is the entry it was found at (None: head or anchor)."""

    entry_id: int | None
    message: str
    kind: str = "chain"
    seq: int | None = None

    def __str__(self) -> str:
        if self.entry_id is None:
            return f"{self.kind}: {self.message}"
        return f"entry #{self.entry_id} at position {self.seq}: {self.message}"


@dataclass(frozen=True)
class DataProblem:
    """A row of a table that differs from the trail's last record of it, or has none."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class Replayer(Protocol):
    """Rebuilds the last recorded state of some rows from the trail and compares the tables.

    An app offers one from a module `<app>.audit_replay` with a function `replayer()`; the
    walk feeds it, in chain order, every intact entry of the object types it names.
    """

    object_types: frozenset[str]
    notes: list[str]  # what the report should say without failing, filled by finish()

    def feed(self, entry: AuditEntry) -> None: ...

    def finish(self) -> list[DataProblem]: ...


def replayers() -> list[Replayer]:
    """One replayer from every installed app that has an `audit_replay` module."""
    found: list[Replayer] = []
    for app in apps.get_app_configs():
        if module_has_submodule(app.module, "audit_replay"):
            found.append(import_module(f"{app.name}.audit_replay").replayer())
    return found


@dataclass
class Verification:
    rows: int = 0  # every row of the entry table
    entries: int = 0  # rows in the chain (id >= 1)
    last_id: int = 0
    last_hash: str = GENESIS
    problems: list[ChainProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    data: list[DataProblem] = field(default_factory=list)
    anchors: int = 0  # this database's anchor lines checked

    @property
    def ok(self) -> bool:
        return not self.problems and not self.data


class _Walk:
    """The state of one pass along the chain."""

    def __init__(self, anchors: Sequence[Anchor], replay: Sequence[Replayer]) -> None:
        self.result = Verification()
        self.expected = 1
        self.prev_id: int | None = None
        self.max_seq = 0
        self.by_seq: dict[int, list[Anchor]] = {}
        for a in anchors:
            self.by_seq.setdefault(a.seq, []).append(a)
        self.seen_seqs: set[int] = set()  # anchored positions met on the walk
        self.replay = replay

    def problem(self, entry: AuditEntry, message: str, kind: str) -> None:
        self.result.problems.append(ChainProblem(entry.pk, message, kind, entry.seq))

    def see(self, entry: AuditEntry) -> None:
        r = self.result
        r.rows += 1
        if entry.pk < 1:
            self.problem(
                entry,
                f"{entry.action} {entry.object_repr!r} has an id below 1, where the chain "
                "starts: it was inserted behind the application's back",
                "id",
            )
            return
        r.entries += 1
        seq = entry.seq
        if seq != self.expected:
            if seq < self.expected:
                self.problem(
                    entry,
                    f"position {self.expected} was due: positions repeat or go back, so "
                    "entries were reordered, renumbered or inserted",
                    "seq",
                )
            else:
                missing = seq - self.expected
                self.problem(
                    entry,
                    f"position {self.expected} was due: {missing} "
                    f"{'entry is' if missing == 1 else 'entries are'} missing before it",
                    "seq",
                )
        self.expected = max(self.expected, seq + 1)
        if entry.prev_hash != r.last_hash:
            before = f"entry #{self.prev_id}" if self.prev_id is not None else "the chain's start"
            self.problem(
                entry,
                f"does not link to {before}: an entry was removed, inserted or moved here",
                "link",
            )
        intact = same(entry.hash, entry_mac(entry))
        if not intact:
            if plain_sha256(entry):
                message = (
                    "carries a plain SHA-256, not the audit key's MAC: it was edited and "
                    "re-hashed by someone without the key"
                )
            else:
                message = (
                    "does not match its MAC: its content, id or position was changed, or it "
                    "was signed with another key"
                )
            self.problem(entry, message, "mac")
        for a in self.by_seq.get(seq, ()):
            if a.last_id != entry.pk or a.last_hash != entry.hash:
                self.problem(
                    entry,
                    f"the anchor of {a.at} (line {a.line}) recorded #{a.last_id} with MAC "
                    f"{a.last_hash[:12]}… at this position: the entry was replaced",
                    "anchor",
                )
        if seq in self.by_seq:
            self.seen_seqs.add(seq)
        self.max_seq = max(self.max_seq, seq)
        r.last_id, r.last_hash, self.prev_id = entry.pk, entry.hash, entry.pk
        if not intact:
            return
        if entry.action == "audit.chain.rekeyed" and isinstance(entry.after, dict):
            found = entry.after.get("problems") or []
            if found:
                r.warnings.append(
                    f"entry #{entry.pk}: the chain was re-signed although {len(found)} "
                    f"problem(s) had been found in it: {'; '.join(found[:5])}"
                )
        for replayer in self.replay:
            if entry.object_type in replayer.object_types:
                replayer.feed(entry)


def _entries(after: int | None, batch_size: int) -> Iterator[AuditEntry]:
    last = after
    while True:
        qs = AuditEntry.objects.order_by("pk")
        if last is not None:
            qs = qs.filter(pk__gt=last)
        batch = list(qs[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].pk


def verify_chain(
    *,
    replay: Sequence[Replayer] = (),
    anchor: AnchorFile | None = None,
    batch_size: int = BATCH,
) -> Verification:
    """Walk the whole chain and report every break; with `replay`, compare the tables too.

    An edited entry fails its MAC; a deleted, inserted or moved one breaks the positions and
    the link after it; entries cut off the end disagree with the head, and — when the head
    was moved back or deleted with them — with the anchor.
    """
    anchors = anchor if anchor is not None else read_anchors()
    walk = _Walk(anchors.anchors, replay)
    head = None
    after: int | None = None
    for _ in range(CONCURRENT_ROUNDS):
        rows = walk.result.rows
        for entry in _entries(after, batch_size):
            walk.see(entry)
        after = walk.result.last_id if walk.result.rows else None
        head = AuditHead.objects.filter(pk=1).first()
        # A writer that committed during the walk moved the head past what was read: read on.
        if head is None or head.count <= walk.result.entries or walk.result.rows == rows:
            break
    result = walk.result
    _check_head(result, head)
    _check_anchors(result, walk, anchors)
    for replayer in replay:
        result.data.extend(replayer.finish())
        result.warnings.extend(replayer.notes)
    return result


def _check_head(r: Verification, head: AuditHead | None) -> None:
    if head is None:
        if r.entries:
            r.problems.append(
                ChainProblem(
                    None, f"the head row is missing while {r.entries} entries exist", "head"
                )
            )
        return
    if head.count and not same(head.mac, head_mac(head.count, head.last_entry_id, head.last_hash)):
        r.problems.append(
            ChainProblem(None, "the head does not match its MAC: it was edited", "head")
        )
    if (head.count, head.last_entry_id, head.last_hash) == (r.entries, r.last_id, r.last_hash):
        return
    if head.count > r.entries:
        why = "entries were deleted from the end"
    elif head.count < r.entries:
        why = "entries were added without moving the head"
    else:
        why = "the head or the last entry was edited"
    r.problems.append(
        ChainProblem(
            None,
            f"the head records {head.count} entries ending at #{head.last_entry_id} "
            f"(MAC {head.last_hash[:12]}…), the chain has {r.entries} ending at #{r.last_id} "
            f"(MAC {r.last_hash[:12]}…): {why}",
            "head",
        )
    )


def _check_anchors(r: Verification, walk: _Walk, found: AnchorFile) -> None:
    for number, what in found.bad:
        where = f"line {number} of {found.path}" if number else str(found.path)
        r.problems.append(ChainProblem(None, f"{where} {what}", "anchor"))
    if not found.exists:
        r.warnings.append(
            f"no anchor file at {found.path} yet: until `duban audit anchor` runs (the daily "
            "pass does), entries cut off the end together with the head go unnoticed"
        )
        return
    if not found.anchors:
        others = f" (it anchors {', '.join(sorted(found.other_databases))})"
        r.warnings.append(
            f"{found.path} holds no anchor for this database yet"
            f"{others if found.other_databases else ''}"
        )
        return
    r.anchors = len(found.anchors)
    previous: Anchor | None = None
    for a in found.anchors:
        if previous is not None and a.seq < previous.seq:
            r.problems.append(
                ChainProblem(
                    None,
                    f"line {a.line} records {a.seq} entries, fewer than line {previous.line} "
                    f"({previous.seq}) before it: the chain was cut or restored from a backup "
                    "in between",
                    "anchor",
                )
            )
        previous = a
    latest = max(found.anchors, key=lambda a: (a.seq, a.line))
    if latest.seq > walk.max_seq:
        has = "is empty" if not r.entries else f"has {r.entries} ending at #{r.last_id}"
        r.problems.append(
            ChainProblem(
                None,
                f"the anchor of {latest.at} (line {latest.line}) recorded {latest.seq} entries "
                f"ending at #{latest.last_id}; the chain {has}: "
                + ("the whole trail was deleted" if not r.entries else "entries were deleted"),
                "anchor",
            )
        )
    for a in found.anchors:
        if 0 < a.seq <= walk.max_seq and a.seq not in walk.seen_seqs:
            r.problems.append(
                ChainProblem(
                    None,
                    f"position {a.seq}, anchored on {a.at} (line {a.line}) as #{a.last_id}, "
                    "is missing from the chain",
                    "anchor",
                )
            )


class AnchorError(RuntimeError):
    """No anchor can be written: inside a transaction, or the file cannot be appended to."""


def anchor_chain() -> tuple[Verification, str | None]:
    """Verify the chain and, when it is sound, append its head to the anchor file; the line
    is None when the chain is broken (nothing is anchored then).

    Refuses inside a transaction: an anchor must record committed entries only, or a
    rollback would leave it claiming entries that never were (the suite's tests run that way).
    """
    if connection.in_atomic_block:
        raise AnchorError("an anchor records committed entries only: run it outside a transaction")
    result = verify_chain()
    if result.problems:
        return result, None
    try:
        return result, append_anchor(result.entries, result.last_id, result.last_hash)
    except OSError as exc:
        raise AnchorError(f"cannot append to {exc.filename}: {exc.strerror}") from None
