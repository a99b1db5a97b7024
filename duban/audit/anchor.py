"""The anchor: signed copies of the chain head kept outside the database.

Whoever can rewrite the tables can cut entries off the end of the chain and move the head
back, or delete everything; no check inside the database can tell. `duban audit anchor` (run
by the daily pass) appends one JSON line per run to a file outside the database — the
database it belongs to, the chain's length, its last entry's id and MAC, the time — signed
with the audit key. `duban audit verify` checks every line against the chain.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from duban.audit.chain import anchor_mac, same

FIELDS = ("at", "db", "last_hash", "last_id", "seq")


@dataclass(frozen=True)
class Anchor:
    """One line of the anchor file: the chain had `seq` entries, the last #`last_id`."""

    line: int
    db: str
    seq: int
    last_id: int
    last_hash: str
    at: str


@dataclass
class AnchorFile:
    path: Path
    exists: bool
    anchors: list[Anchor]  # this database's lines, in file order
    bad: list[tuple[int, str]]  # (line number, what is wrong) for lines that fail their MAC
    other_databases: set[str]


def anchor_path() -> Path:
    return Path(settings.DUBAN_AUDIT_ANCHOR)


def database_identity() -> str:
    """Which database a line anchors: engine and name (a SQLite file by its full path), so one
    data directory may serve a demo file and a production server without their lines mixing."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and not name.startswith("file:") and name != ":memory:":
        name = str(Path(name).resolve())
    return f"{connection.vendor}:{name}"


def read_anchors(path: Path | None = None) -> AnchorFile:
    path = path or anchor_path()
    found = AnchorFile(path, path.exists(), [], [], set())
    if not found.exists:
        return found
    me = database_identity()
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            for number, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                problem, anchor = _parse(number, text)
                if problem:
                    found.bad.append((number, problem))
                elif anchor is not None and anchor.db == me:
                    found.anchors.append(anchor)
                elif anchor is not None:
                    found.other_databases.add(anchor.db)
    except OSError as exc:
        found.bad.append((0, f"cannot be read: {exc.strerror}"))
    return found


def _parse(number: int, text: str) -> tuple[str | None, Anchor | None]:
    try:
        line = json.loads(text)
    except ValueError:
        return "is not a JSON line: the file was edited or damaged", None
    if not isinstance(line, dict) or set(line) != {*FIELDS, "mac"}:
        return "does not hold the fields of an anchor: the file was edited", None
    if not isinstance(line["mac"], str) or not same(line["mac"], anchor_mac(line)):
        return "does not match its MAC: the line was forged or edited", None
    return None, Anchor(
        number, line["db"], int(line["seq"]), int(line["last_id"]), line["last_hash"], line["at"]
    )


def append_anchor(count: int, last_id: int, last_hash: str, path: Path | None = None) -> str:
    """Sign and append one line; returns it. The caller has verified the chain it anchors."""
    path = path or anchor_path()
    line: dict[str, Any] = {
        "at": timezone.now().replace(microsecond=0).isoformat(),
        "db": database_identity(),
        "last_hash": last_hash,
        "last_id": last_id,
        "seq": count,
    }
    line["mac"] = anchor_mac(line)
    text = json.dumps(line, sort_keys=True, ensure_ascii=False)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())
    return text
