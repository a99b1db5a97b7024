"""`duban backup` and `duban restore`: one archive holding the database, the uploaded files
and the audit anchor, with a signed manifest of every file's SHA-256.

The archive is one tar file (gzip-compressed unless its name ends in `.tar`): a single object
to copy off the machine, encrypt and rotate, written under a temporary name and renamed into
place, so a half-written backup never carries the final name. The manifest is signed with
the audit key: a file changed or swapped inside the archive, or a manifest rewritten to match,
is refused before anything is touched. A restore unpacks and checks everything in a
temporary place beside the target first and only then swaps it in; what it replaces is kept
aside under a `.pre-restore-<time>` name.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from duban.audit.anchor import database_identity
from duban.audit.chain import mac, same
from duban.audit.context import acting_as
from duban.audit.services import record
from duban.core import backup_db

FORMAT = "duban-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA = "media"
ANCHOR = "audit-anchor.jsonl"
_MANIFEST_MAC = b"duban-backup-manifest\n"
_KEY_ID = b"duban-backup-key\n"
CHUNK = 1024 * 1024
VENDORS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}  # proper names, shown as they are


class BackupRefused(Exception):
    """A backup or restore that cannot go ahead; `message` is in the user's language and
    `problems` names each missing or altered file."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


@dataclass(frozen=True)
class Made:
    path: Path
    manifest: dict[str, Any]
    size: int
    seconds: float


# Backing up ----------------------------------------------------------------------------------


def destination(dest: Path | None, now: Any = None) -> Path:
    """A file named `…tar` or `…tar.gz` is the archive; anything else is the folder for one
    named by the time (default: `backups/` in the data directory — copy it elsewhere)."""
    if dest is not None and dest.name.endswith((".tar", ".tar.gz", ".tgz")):
        return dest
    folder = dest if dest is not None else Path(settings.DATA_DIR) / "backups"
    stamp = timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M%S")
    return folder / f"duban-backup-{stamp}.tar.gz"


def make_backup(dest: Path | None = None) -> Made:
    """Write the archive, then record it in the audit trail (the entry is therefore not in
    the archive itself: the live trail says which backups were taken)."""
    if connection.in_atomic_block:
        # The dump would miss the open transaction's rows (pg_dump) or wait for its lock
        # for ever (SQLite's backup API on a shared in-memory database, as in tests).
        raise RuntimeError("a backup copies committed data only: run it outside a transaction")
    started = time.monotonic()
    path = destination(dest)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    files: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix=".duban-backup-", dir=path.parent) as work:
        # The anchor first: every line it holds then anchors entries the dump includes.
        anchor = Path(settings.DUBAN_AUDIT_ANCHOR)
        anchor_copy = Path(work) / ANCHOR
        if anchor.is_file():
            shutil.copyfile(anchor, anchor_copy)
        dumped = backup_db.dump(Path(work))
        partial.touch(mode=0o600)  # it holds the whole database
        partial.chmod(0o600)
        try:
            with tarfile.open(partial, "w" if path.name.endswith(".tar") else "w:gz") as tar:
                _add(tar, Path(work) / dumped.filename, dumped.filename, files)
                if anchor_copy.exists():
                    _add(tar, anchor_copy, ANCHOR, files)
                for source, name in _media_files(Path(settings.MEDIA_ROOT)):
                    _add(tar, source, name, files)
                manifest = _manifest(dumped, files)
                data = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
                tar.addfile(info, io.BytesIO(data))
            _fsync(partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    digest = _sha256_file(path)
    size = path.stat().st_size
    with acting_as(source="duban backup"):
        record(
            "audit.backup.created",
            object_type="backup",
            object_repr=path.name,
            after={
                "archive": str(path),
                "sha256": digest,
                "size": size,
                "files": len(files),
                "entries": manifest["audit"]["head"]["count"],
                "database": manifest["database"]["vendor"],
                "os_user": _os_user(),
            },
        )
    return Made(path, manifest, size, time.monotonic() - started)


class _Hashing(io.RawIOBase):
    """A file read through for tarfile, hashing what is read."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.sha = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.sha.update(data)
        return data


def _add(tar: tarfile.TarFile, source: Path, name: str, files: dict[str, dict[str, Any]]) -> None:
    with source.open("rb") as f:
        st = os.fstat(f.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = st.st_size, int(st.st_mtime), 0o600
        hashing = _Hashing(f)
        tar.addfile(info, hashing)  # type: ignore[arg-type]
    files[name] = {"sha256": hashing.sha.hexdigest(), "size": st.st_size}


def _media_files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, f"{MEDIA}/{path.relative_to(root).as_posix()}"


def _manifest(dumped: backup_db.Dumped, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    heads: dict[str, str] = {}
    for applied in dumped.migrations:
        app, name = applied.split(".", 1)
        heads[app] = max(heads.get(app, name), name)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "duban": {"version": _version(), "commit": _commit()},
        "database": {
            "vendor": dumped.vendor,
            "identity": database_identity(),
            "file": dumped.filename,
            "migration_heads": heads,
            "migrations": dumped.migrations,
            "tools": dumped.tools,
        },
        "audit": {"head": dumped.head, "key_id": key_id()},
        "files": files,
    }
    manifest["mac"] = manifest_mac(manifest)
    return manifest


def key_id() -> str:
    """Names the audit key without revealing it: a restore needs the same key."""
    return mac(_KEY_ID)[:16]


def manifest_mac(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "mac"}
    return mac(_MANIFEST_MAC + json.dumps(body, sort_keys=True, ensure_ascii=False).encode())


def _version() -> str:
    try:
        return metadata.version("duban")
    except metadata.PackageNotFoundError:
        return ""


def _commit() -> str:
    root = Path(settings.BASE_DIR).parent
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _sha256_file(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Checking ------------------------------------------------------------------------------------


def check_archive(path: Path) -> dict[str, Any]:
    """The manifest, once every file in the archive matches it and it matches its MAC;
    otherwise BackupRefused naming each missing, altered or unlisted file."""
    if not path.is_file():
        raise BackupRefused(_("There is no backup archive at %(path)s.") % {"path": path})
    seen, raw = _scan(path, None)
    manifest = _parse_manifest(raw)
    problems = []
    listed: dict[str, dict[str, Any]] = manifest["files"]
    for name, want in sorted(listed.items()):
        if name not in seen:
            problems.append(_("%(name)s is missing from the archive") % {"name": name})
        elif seen[name] != want.get("sha256"):
            problems.append(_("%(name)s was altered (its SHA-256 differs)") % {"name": name})
    for name in sorted(set(seen) - set(listed)):
        problems.append(_("%(name)s is not listed in the manifest") % {"name": name})
    if problems:
        raise BackupRefused(_("The backup is damaged or altered; nothing was restored."), problems)
    return manifest


def _scan(path: Path, extract_to: Path | None) -> tuple[dict[str, str], bytes | None]:
    """Every regular file's SHA-256 (and the manifest's bytes); with `extract_to`, each file
    is also written there. Links, devices, absolute or climbing names are refused."""
    seen: dict[str, str] = {}
    raw: bytes | None = None
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                name = _safe_name(member)
                if name in seen or (name == MANIFEST and raw is not None):
                    raise BackupRefused(
                        _("The backup holds %(name)s twice; it was altered.") % {"name": name}
                    )
                f = tar.extractfile(member)
                assert f is not None
                if name == MANIFEST:
                    raw = f.read(16 * 1024 * 1024)
                    continue
                seen[name] = _copy(f, extract_to / name if extract_to else None)
            # tarfile stops quietly at a damaged header: read on to the end, where gzip
            # checks its CRC, so a damaged stream is named as such.
            if tar.fileobj is not None:
                while tar.fileobj.read(CHUNK):
                    pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupRefused(
            _("The archive cannot be read (%(error)s): it is damaged or not a Duban backup.")
            % {"error": exc}
        ) from None
    return seen, raw


def _safe_name(member: tarfile.TarInfo) -> str:
    name = PurePosixPath(member.name)
    if not member.isfile() or name.is_absolute() or ".." in name.parts or not name.parts:
        raise BackupRefused(
            _("The archive holds %(name)s, which no Duban backup holds; it was altered.")
            % {"name": member.name}
        )
    return name.as_posix()


def _copy(f: IO[bytes], target: Path | None) -> str:
    sha = hashlib.sha256()
    out = None
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        out = target.open("wb")
    try:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
            if out is not None:
                out.write(chunk)
    finally:
        if out is not None:
            out.close()
    return sha.hexdigest()


def _parse_manifest(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise BackupRefused(_("The archive has no manifest: it is damaged or not a Duban backup."))
    try:
        manifest = json.loads(raw)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(_("The manifest is damaged or not a Duban backup's."))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupRefused(
            _("This backup's format (version %(version)s) is not one this Duban reads.")
            % {"version": manifest.get("format_version")}
        )
    if manifest.get("audit", {}).get("key_id") != key_id():
        raise BackupRefused(
            _(
                "The backup was signed with another audit key. Configure the audit key of the "
                "installation it came from (DUBAN_AUDIT_KEY or the audit_key file) and try again."
            )
        )
    if not isinstance(manifest.get("mac"), str) or not same(
        manifest["mac"], manifest_mac(manifest)
    ):
        raise BackupRefused(_("The manifest was altered (its signature does not match)."))
    if not isinstance(manifest.get("files"), dict):
        raise BackupRefused(_("The manifest is damaged or not a Duban backup's."))
    return manifest
