"""Importing a file of figures: pick the reader, check the template against the form it is
uploaded to, write through `values.write_values`. All or nothing."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from duban.errors import Problem
from duban.indicators.models import DataSet
from duban.logs import timed
from duban.orgs.models import OrgUnit
from duban.reporting import readers
from duban.reporting.errors import ReportingError
from duban.reporting.values import RawValue, Scope, WriteResult, write_values

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

FORMATS = ("csv", "xlsx", "json")
log = logging.getLogger(__name__)
_gc_lock = threading.Lock()
_gc_pausers = 0


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cycle collector off while a file is read, checked and written, on again after.

    An import builds a few hundred thousand objects that all live until it ends (rows, plans,
    audit lists) and makes no cycles worth collecting; each full collection walks all of them,
    and on the benchmark's 100,000 figures these walks were a third of the import (5.5 s ->
    3.5 s without them). Reference counting still frees everything; the collector resumes
    when the last import of the process ends (threads count, so none re-enables it early)."""
    global _gc_pausers
    with _gc_lock:
        counted = _gc_pausers > 0 or gc.isenabled()  # off by someone else: left to them
        if counted:
            _gc_pausers += 1
            gc.disable()
    try:
        yield
    finally:
        if counted:
            with _gc_lock:
                _gc_pausers -= 1
                if _gc_pausers == 0:
                    gc.enable()


def sniff_format(name: str, data: bytes) -> str:
    """By the file's first bytes, then its name: a renamed file is read for what it is."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "json"
    lower = name.lower()
    if lower.endswith((".xlsx", ".xlsm", ".xls")):
        return "xlsx"  # the reader will say it is not a workbook
    return "csv"


def read_rows(data: bytes, fmt: str) -> tuple[list[RawValue], readers.TemplateMeta | None]:
    if fmt == "csv":
        return readers.read_csv(data), None
    if fmt == "json":
        return readers.read_dhis2_json(data), None
    if fmt == "xlsx":
        return readers.read_xlsx(data)
    raise ReportingError(
        _("unknown format %(fmt)s: use %(formats)s")
        % {"fmt": repr(fmt), "formats": ", ".join(FORMATS)},
        "format",
    )


def import_file(
    data: bytes,
    fmt: str,
    *,
    user: Actor,
    form: tuple[DataSet, OrgUnit, str, list[OrgUnit]] | None = None,
    today: date | None = None,
) -> WriteResult:
    """Read a whole file and write every figure in it, or nothing.

    With `form` (data set, unit, period, units of the template) the file must be
    that form's template: another data set, period or unit is refused by name.
    Logged as `import started` / `import finished` (rows, new, changed, same, seconds).
    """
    with timed(log, "import", format=fmt, bytes=len(data)) as out, cyclic_gc_paused():
        result = _import_file(data, fmt, user=user, form=form, today=today)
        out.update(
            rows=result.rows, new=result.created, changed=result.updated, same=result.unchanged
        )
    return result


def _import_file(
    data: bytes,
    fmt: str,
    *,
    user: Actor,
    form: tuple[DataSet, OrgUnit, str, list[OrgUnit]] | None,
    today: date | None,
) -> WriteResult:
    if not data:
        raise ReportingError(_("the file is empty"), "file")
    rows, meta = read_rows(data, fmt)
    scope = None
    if form is not None:
        ds, _unit, period, units = form
        problems: list[Problem] = []
        if meta is None:
            problems.append(
                Problem("file", _("upload the Excel template downloaded for this form"))
            )
        else:
            if meta.data_set != ds.code:
                problems.append(
                    Problem(
                        "file",
                        _("this template is for data set %(data_set)s, the form is %(code)s")
                        % {"data_set": meta.data_set, "code": ds.code},
                    )
                )
            if meta.period != period:
                problems.append(
                    Problem(
                        "file",
                        _("this template is for period %(period)s, the form is %(period2)s")
                        % {"period": meta.period, "period2": period},
                    )
                )
            foreign = sorted(set(meta.units) - {u.code for u in units})
            if foreign:
                problems.append(
                    Problem(
                        "file",
                        _("this template holds other units: %(foreign)s")
                        % {"foreign": ", ".join(foreign[:10])},
                    )
                )
        if problems:
            raise ReportingError(problems)
        scope = Scope(ds, period, frozenset(u.code for u in units))
    elif meta is not None:
        named = DataSet.objects.filter(code=meta.data_set).first()
        if named is None:
            raise ReportingError(
                _("the template names an unknown data set %(data_set)s")
                % {"data_set": repr(meta.data_set)},
                "file",
            )
        scope = Scope(named, meta.period, frozenset(meta.units))
    if not rows:
        raise ReportingError(_("the file holds no figures"), "file")
    return write_values(rows, user=user, today=today, scope=scope)
