"""Importing business records: check a file, then apply its good rows or refuse it.

`import_file` reads and checks a file (duban.records.importing) and keeps what it found as a
`RecordImport`: its hash, counts and every bad row with its line. A file without bad rows is
applied at once; one with bad rows waits (`ImportState.WAITING`) until a person decides —
`apply_import` writes the good rows and leaves out the bad ones listed, `refuse_import`
writes nothing. Each step is one transaction: all of the file's new rows, or none; the rows go
to one file of the record store (duban.records.store) that the import names, and the writers
of records take turns (`store.lock`), so a record number is never taken twice.

The audit trail records the import, not its rows: the RecordImport is an AuditedModel, so
its creation (file name, hash, counts) and its decision (state, who, when, new records) are
entries of the chain, in the same transaction as the rows written. The rows themselves are
named by the file's hash and kept in it: the file waiting for a decision is kept in the
shared file storage (`records/<sha256>`), so any app server may apply it.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from duban.core.acting import attributed
from duban.jobs.work import start
from duban.logs import timed
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM, Action
from duban.records import importing, store
from duban.records.importing import Checked, Problem
from duban.records.models import ImportState, RecordImport
from duban.records.readers import RecordsError, Source, open_source

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

log = logging.getLogger(__name__)
STORE = "records"
MAX_BYTES = 2 * 1024**3  # an upload through the page; the command reads any size


def max_bytes() -> int:
    """The largest file the page accepts (DUBAN_RECORDS_MAX_BYTES, default 2 GB)."""
    return int(getattr(settings, "DUBAN_RECORDS_MAX_BYTES", MAX_BYTES))


def problems_of(imp: RecordImport) -> list[Problem]:
    return [Problem.from_json(p) for p in imp.problems or []]


def visible_imports(user: Actor) -> QuerySet[RecordImport]:
    """The imports the user may see: those for a unit within his IMPORT_RECORDS reach."""
    qs = RecordImport.objects.select_related("unit", "imported_by", "decided_by")
    if policy.is_system(user):
        return qs
    return qs.filter(unit__in=policy.visible_units(user, Action.IMPORT_RECORDS))


def import_units(user: Actor) -> list[OrgUnit]:
    """The units a user may import for (the tops of his reach), for the upload's choice."""
    return list(
        OrgUnit.objects.filter(path__in=policy.roots(user, Action.IMPORT_RECORDS)).order_by("path")
    )


@attributed
def import_file(
    path: Path, *, name: str, user: Actor, unit: OrgUnit, apply_good: bool = False
) -> RecordImport:
    """Check the file at `path` (named `name`) for records of `unit`'s subtree.

    A file with no bad rows is applied at once. One with bad rows waits for a decision, its
    copy kept in the file storage — unless `apply_good` (the command's `--apply`): then its
    good rows are written at once and the bad ones, listed on the import, left out."""
    policy.require(user, Action.IMPORT_RECORDS, unit)
    source = open_source(path, name)
    try:
        with timed(log, "records import", file=name, bytes=source.size) as out:
            imp = _import(source, path, user=user, unit=unit, apply_good=apply_good)
            out.update(rows=imp.rows_read, new=imp.rows_new, known=imp.rows_known, bad=imp.rows_bad)
    finally:
        source.close()
    return imp


def _import(
    source: Source, original: Path, *, user: Actor, unit: OrgUnit, apply_good: bool
) -> RecordImport:
    imp: RecordImport | None = None
    with written(lambda: imp), transaction.atomic():
        store.lock()
        checked = importing.check(source, scope=unit.path)
        try:
            imp = RecordImport(
                file_name=source.name[:255],
                sha256=source.sha256,
                file_format=source.file_format,
                encoding=source.encoding,
                state=ImportState.WAITING,
                imported_by=policy.person(user),
                unit=unit,
            )
            _counts(imp, checked)
            imp.save()
            if checked.rows_bad == 0 or apply_good:
                _write(imp, checked, user=user)
            else:
                _keep(original, imp.sha256)
        finally:
            checked.close()
    assert imp is not None
    return imp


@contextlib.contextmanager
def written(current: Callable[[], RecordImport | None]) -> Iterator[None]:
    """Remove the record-store file of the import `current()` names if its transaction
    fails: such a file is never read, but need not lie there."""
    try:
        yield
    except BaseException:
        imp = current()
        if imp is not None and imp.stored_as:
            store.discard(imp.stored_as)
        raise


def _counts(imp: RecordImport, checked: Checked) -> None:
    imp.rows_read = checked.rows_read
    imp.rows_new = checked.rows_new
    imp.rows_known = checked.rows_known
    imp.rows_bad = checked.rows_bad
    imp.problems = [p.as_json() for p in checked.problems]


def _write(imp: RecordImport, checked: Checked, *, user: Actor) -> None:
    """Write the new rows to the record store and mark the import applied (inside the
    caller's transaction, which holds the writers' lock since before the check)."""
    if checked.rows_new:
        # Should the transaction fail after this, the file is named by no applied import and
        # so is never read (`written` removes it where the failure is seen).
        imp.stored_as = importing.write(checked, imp.pk)
    imp.state = ImportState.APPLIED
    imp.decided_by = policy.person(user)
    imp.decided_at = timezone.now()
    imp.rows_new = checked.rows_new
    imp.save()
    if checked.rows_new:
        transaction.on_commit(lambda: refresh_proposals(imp, user=user))


def refresh_proposals(imp: RecordImport, *, user: Actor) -> None:
    """After new records land, the record indicators' proposed figures follow them, so the
    forms propose what the records now say: by the worker for a person, at once for a command
    (the system). The recompute runs as the system: the proposals are derived from records the
    importer was allowed to bring. Nothing to do where no record indicator is defined."""
    from duban.records import jobs, proposals

    if not proposals.record_indicators():
        return
    who = policy.person(user)
    if who is None:
        proposals.recompute_record_indicators(user=SYSTEM)
    else:
        start(jobs.RECOMPUTE, user=who, unit=imp.unit, after_import=imp.pk)


def _stored_name(sha256: str) -> str:
    return f"{STORE}/{sha256}"


def _keep(path: Path, sha256: str) -> None:
    name = _stored_name(sha256)
    if not default_storage.exists(name):
        with open(path, "rb") as fh:
            default_storage.save(name, File(fh))


def _forget(sha256: str) -> None:
    """Remove the kept copy once no import waits on it."""
    if not RecordImport.objects.filter(sha256=sha256, state=ImportState.WAITING).exists():
        name = _stored_name(sha256)
        if default_storage.exists(name):
            default_storage.delete(name)


def _stored(imp: RecordImport) -> Path:
    """The waiting file's kept copy, as a local file DuckDB can read."""
    name = _stored_name(imp.sha256)
    if not default_storage.exists(name):
        raise RecordsError(_("the file of this import is no longer kept: import it again"), "file")
    try:
        return Path(default_storage.path(name))
    except NotImplementedError:  # a storage without local paths: copy it out
        fd, local = tempfile.mkstemp(prefix="duban-records-")
        with open(fd, "wb") as out, default_storage.open(name, "rb") as fh:
            shutil.copyfileobj(fh, out)
        return Path(local)


def _waiting(imp: RecordImport) -> RecordImport:
    locked = RecordImport.objects.select_for_update().get(pk=imp.pk)
    if locked.state != ImportState.WAITING:
        raise RecordsError(
            _("this import is already decided: %(state)s") % {"state": locked.get_state_display()},
            "state",
        )
    return locked


@attributed
def apply_import(imp: RecordImport, *, user: Actor) -> RecordImport:
    """Write the good rows of a waiting import, leaving out the bad rows it lists.

    The kept file is checked again first: if what it finds is not what the import listed
    (records came in meanwhile under the same numbers), the list is brought up to date and
    nothing is written, so that a person decides on what will truly happen."""
    if imp.unit is None:
        raise RecordsError(_("this import names no unit"), "unit")
    policy.require(user, Action.IMPORT_RECORDS, imp.unit)
    changed = False
    with written(lambda: imp), transaction.atomic():
        store.lock()
        imp = _waiting(imp)
        assert imp.unit is not None
        source = open_source(_stored(imp), imp.file_name)
        try:
            if source.sha256 != imp.sha256:
                raise RecordsError(_("the kept file has changed: import it again"), "file")
            checked = importing.check(source, scope=imp.unit.path)
            try:
                if [p.as_json() for p in checked.problems] != imp.problems:
                    _counts(imp, checked)
                    imp.save()
                    changed = True
                else:
                    _write(imp, checked, user=user)
            finally:
                checked.close()
        finally:
            source.close()
    if changed:
        raise RecordsError(
            _(
                "the file was checked again and its bad rows have changed since: look at the list and decide again"
            ),
            "file",
        )
    _forget(imp.sha256)
    return imp


@attributed
def refuse_import(imp: RecordImport, *, user: Actor) -> RecordImport:
    """Refuse a waiting import: nothing of the file is written."""
    if imp.unit is None:
        raise RecordsError(_("this import names no unit"), "unit")
    policy.require(user, Action.IMPORT_RECORDS, imp.unit)
    with transaction.atomic():
        imp = _waiting(imp)
        imp.state = ImportState.REFUSED
        imp.decided_by = policy.person(user)
        imp.decided_at = timezone.now()
        imp.save()
    _forget(imp.sha256)
    return imp
