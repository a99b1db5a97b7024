"""The keyed hash chain: what an entry's MAC covers, and the MACs of the head and the anchor.

An entry's MAC is HMAC-SHA256 under the audit key (settings.DUBAN_AUDIT_KEY, kept outside the
database) over its canonical form, which holds its position in the chain (`seq`), its id, the
previous entry's MAC and every recorded field. Whoever can edit the tables but not read the
key cannot re-sign an edited, inserted, renumbered or moved entry. Each MAC input starts with
a label of its own, so an entry's MAC can never pass for a head's or an anchor's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Protocol

from django.conf import settings

GENESIS = "0" * 64
_ENTRY = b"duban-audit-entry\n"
_HEAD = b"duban-audit-head\n"
_ANCHOR = b"duban-audit-anchor\n"


class EntryFields(Protocol):
    """What the canonical form reads: an AuditEntry, or the migrations' historical model."""

    pk: Any
    seq: Any
    prev_hash: str
    hash: str
    at: Any
    actor_id: Any
    actor_name: str
    ip: str | None
    source: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    unit_id: Any
    before: Any
    after: Any
    reason: str


def audit_key() -> bytes:
    return str(settings.DUBAN_AUDIT_KEY).encode()


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _fields(entry: EntryFields) -> dict[str, Any]:
    return {
        "prev": entry.prev_hash,
        "at": entry.at.isoformat(),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "ip": entry.ip,
        "source": entry.source,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "unit": entry.unit_id,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
    }


def canonical(entry: EntryFields) -> bytes:
    return _dumps({**_fields(entry), "seq": entry.seq, "id": entry.pk})


def mac(data: bytes, key: bytes | None = None) -> str:
    return hmac.new(audit_key() if key is None else key, data, hashlib.sha256).hexdigest()


def entry_mac(entry: EntryFields, key: bytes | None = None) -> str:
    return mac(_ENTRY + canonical(entry), key)


def head_mac(count: int, last_entry_id: int, last_hash: str, key: bytes | None = None) -> str:
    return mac(_HEAD + _dumps([count, last_entry_id, last_hash]), key)


def anchor_mac(line: dict[str, Any], key: bytes | None = None) -> str:
    """The MAC of an anchor line: every field but `mac` itself."""
    return mac(_ANCHOR + _dumps({k: v for k, v in line.items() if k != "mac"}), key)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def legacy_hash(entry: EntryFields) -> str:
    """The unkeyed SHA-256 of the first chain (migration audit 0001), before `seq` existed."""
    return hashlib.sha256(_dumps(_fields(entry))).hexdigest()


def plain_sha256(entry: EntryFields) -> bool:
    """Whether the entry's hash is an unkeyed SHA-256 of its content, old form or new: the mark
    of someone who recomputed the chain without the key."""
    return entry.hash in (legacy_hash(entry), hashlib.sha256(canonical(entry)).hexdigest())
