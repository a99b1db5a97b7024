"""`duban restore`: an archive of `duban backup` back into the configured database and data
directory, checked first, unpacked and checked again beside the target, then swapped in.

Nothing is half-restored: the archive is verified whole before anything moves; the files are
unpacked (hashed again as they are written) into a temporary folder on the target's disk; a
SQLite file passes SQLite's integrity check before it is renamed over the database; a
PostgreSQL dump loads in one transaction. What is replaced is renamed aside, not deleted.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from duban.audit.anchor import Anchor, AnchorFile, database_identity
from duban.audit.chain import anchor_mac, same
from duban.audit.context import acting_as
from duban.audit.models import AuditHead
from duban.audit.services import record
from duban.audit.verify import AnchorError, Verification, anchor_chain, verify_chain
from duban.core import backup_db
from duban.core.backups import (
    ANCHOR,
    MEDIA,
    VENDORS,
    BackupRefused,
    _os_user,
    _scan,
    check_archive,
)


@dataclass
class Restored:
    manifest: dict[str, Any]
    seconds: float
    kept_aside: list[Path] = field(default_factory=list)
    migrated: bool = False
    verification: Verification | None = None
    anchor_line: str | None = None
    source_anchors: int = 0  # the archive's anchor lines of the database it was taken from


def restore(path: Path, *, force: bool = False) -> Restored:
    """Restore the archive at `path`; refuses a damaged one, one from another vendor or a newer
    Duban, and a target that holds data unless `force`."""
    started = time.monotonic()
    manifest = check_archive(path)
    pending = _check_compatible(manifest)
    occupied = occupied_target()
    if occupied and not force:
        raise BackupRefused(
            _(
                "The target already holds data (%(what)s). Restore onto an empty database and "
                "data directory, or add --force to replace them (what is replaced is kept aside)."
            )
            % {"what": "; ".join(occupied)}
        )
    replaced_head = _current_head() if occupied else None
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    result = Restored(manifest, 0.0)
    with tempfile.TemporaryDirectory(prefix=".duban-restore-", dir=media_root.parent) as work:
        folder = Path(work)
        _unpack(path, manifest, folder)
        result.kept_aside += _swap_database(manifest, folder, stamp, replace=bool(occupied))
        result.kept_aside += _swap(folder / MEDIA, media_root, stamp)
        result.kept_aside += _swap(folder / ANCHOR, Path(settings.DUBAN_AUDIT_ANCHOR), stamp)
    if pending:
        call_command("migrate", interactive=False, verbosity=0)
        result.migrated = True
    _record(path, manifest, replaced_head, result.kept_aside)
    _verify_and_anchor(result)
    result.seconds = time.monotonic() - started
    return result


def _check_compatible(manifest: dict[str, Any]) -> bool:
    """Refuse another vendor's dump or migrations this code does not know; True when the
    code has migrations the backup lacks (they run after the restore)."""
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupRefused(
            _("The backup holds a %(archive)s database; the configured one is %(configured)s.")
            % {
                "archive": VENDORS.get(vendor, vendor),
                "configured": VENDORS.get(connection.vendor, connection.vendor),
            }
        )
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = {f"{app}.{name}" for app, name in loader.disk_migrations}
    applied = set(manifest["database"]["migrations"])
    unknown = sorted(applied - known)
    if unknown:
        raise BackupRefused(
            _(
                "The backup was made by a newer Duban (it has migrations this one lacks: "
                "%(names)s). Install that version or a later one first."
            )
            % {"names": ", ".join(unknown[:5])}
        )
    return bool(known - applied)


def occupied_target() -> list[str]:
    """What the target already holds: tables, uploaded files, anchor lines."""
    found = []
    if not backup_db.is_empty():
        found.append(_("the database has tables"))
    media = Path(settings.MEDIA_ROOT)
    if media.is_dir() and any(p.is_file() for p in media.rglob("*")):
        found.append(_("%(path)s holds files") % {"path": media})
    anchor = Path(settings.DUBAN_AUDIT_ANCHOR)
    if anchor.is_file() and anchor.stat().st_size > 0:
        found.append(_("the anchor file %(path)s exists") % {"path": anchor})
    return found


def _current_head() -> dict[str, Any] | None:
    try:
        head = AuditHead.objects.filter(pk=1).first()
    except Exception:  # an older or foreign schema: there is nothing to name
        return None
    return {"count": head.count, "last_entry_id": head.last_entry_id} if head else None


def _unpack(path: Path, manifest: dict[str, Any], folder: Path) -> None:
    """Write every file beside the target, hashing again as it is written (the archive may
    have changed since it was checked)."""
    seen, _raw = _scan(path, folder)
    listed = manifest["files"]
    if set(seen) != set(listed) or any(seen[n] != listed[n]["sha256"] for n in listed):
        raise BackupRefused(_("The backup changed while it was restored; nothing was restored."))
    (folder / MEDIA).mkdir(exist_ok=True)


def _swap_database(
    manifest: dict[str, Any], folder: Path, stamp: str, *, replace: bool
) -> list[Path]:
    dump = folder / manifest["database"]["file"]
    if connection.vendor == "postgresql":
        try:
            backup_db.restore_postgres(dump, folder, replace=replace)
        except backup_db.DatabaseToolError as exc:
            raise BackupRefused(
                _("PostgreSQL refused the dump; the database is unchanged: %(error)s")
                % {"error": exc}
            ) from None
        return []
    target = backup_db.sqlite_target()
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restore-{stamp}")
    shutil.move(dump, staged)
    try:
        verdict = backup_db.check_sqlite(staged)
        if verdict != "ok":
            raise BackupRefused(
                _("The database in the backup fails SQLite's integrity check: %(error)s")
                % {"error": verdict}
            )
        connection.close()
        kept = []
        for suffix in ("", "-wal", "-shm"):
            kept += _set_aside(Path(f"{target}{suffix}"), stamp)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return [k for k in kept if not k.name.endswith(("-wal", "-shm"))]


def _set_aside(path: Path, stamp: str) -> list[Path]:
    if not path.exists():
        return []
    aside = path.with_name(f"{path.name}.pre-restore-{stamp}")
    os.replace(path, aside)
    return [aside]


def _swap(staged: Path, target: Path, stamp: str) -> list[Path]:
    """Rename the unpacked file or folder into place, the old one aside (an empty folder is
    simply removed)."""
    if not staged.exists():
        return []
    kept: list[Path] = []
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
    else:
        kept = _set_aside(target, stamp)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
    return kept


def _record(path: Path, manifest: dict[str, Any], replaced: Any, kept: list[Path]) -> None:
    with acting_as(source="duban restore"):
        record(
            "audit.backup.restored",
            object_type="backup",
            object_repr=path.name,
            after={
                "archive": str(path),
                "created_at": manifest["created_at"],
                "entries": manifest["audit"]["head"]["count"],
                "database": manifest["database"]["identity"],
                "replaced": replaced,
                "kept_aside": [str(k) for k in kept],
                "os_user": _os_user(),
            },
        )


def _verify_and_anchor(result: Restored) -> None:
    """Check the restored chain against the anchors the archive carried for the database it
    was taken from (kept under that database's name), then anchor it under this one's."""
    source = result.manifest["database"]["identity"]
    anchors = source_anchors(Path(settings.DUBAN_AUDIT_ANCHOR), source)
    result.source_anchors = len(anchors.anchors)
    if source != database_identity() and anchors.anchors:
        result.verification = verify_chain(anchor=anchors)
        if not result.verification.ok:
            return
    try:
        result.verification, result.anchor_line = anchor_chain()
    except AnchorError:
        result.anchor_line = None


def source_anchors(path: Path, db: str) -> AnchorFile:
    """The signed lines of one database (by its identity) in an anchor file."""
    found = AnchorFile(path, path.exists(), [], [], set())
    if not found.exists:
        return found
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, text in enumerate(f, start=1):
            try:
                line = json.loads(text)
            except ValueError:
                continue
            if not isinstance(line, dict) or line.get("db") != db:
                continue
            if not same(str(line.get("mac", "")), anchor_mac(line)):
                found.bad.append((number, "does not match its MAC"))
                continue
            found.anchors.append(
                Anchor(
                    number,
                    db,
                    int(line["seq"]),
                    int(line["last_id"]),
                    line["last_hash"],
                    line["at"],
                )
            )
    return found
