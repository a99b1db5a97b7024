"""Small factories for tests: defaults for everything, overrides by keyword; and the harness
the permission matrices share (each matrix keeps its own hand-written table)."""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from duban.accounts.models import User
from duban.audit.models import AuditEntry
from duban.orgs.models import Membership, OrgUnit

PASSWORD = "Test-pass-2017!"


def logged_in(username: str) -> Client:
    """A test client signed in as `username` (made with `make_user`, so with PASSWORD)."""
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


# Every permission matrix walks all roles; its expected cells stay written out by hand per app.
MATRIX_ROLES = [
    "system_admin",
    "security_admin",
    "audit_admin",
    "office",
    "reporter",
    "approver",
    "leader",
]
NO_CELLS: frozenset[str] = frozenset()
# Where a target unit sits seen from the actor's unit, COUNTY-A of make_tree(): the relations
# every matrix walks (some add their own), and the tree fixture's unit for each.
MATRIX_RELATIONS = ["own", "child", "sibling", "parent"]
RELATIVES = {"own": "county_a", "child": "station_a1", "sibling": "county_b", "parent": "city"}

# operation -> role -> the relations where it succeeds (a role left out succeeds nowhere)
Expected = Mapping[str, Mapping[str, AbstractSet[str]]]


def make_unit(code: str, parent: OrgUnit | None = None, **fields: Any) -> OrgUnit:
    defaults: dict[str, Any] = {
        "name_zh": f"{code}单位",
        "name_en": f"Unit {code}",
        "level": "county",
        "kind": "territorial",
    }
    defaults.update(fields)
    return OrgUnit.objects.create(code=code, parent=parent, **defaults)


def make_user(username: str, unit: OrgUnit | None = None, *roles: str, **fields: Any) -> User:
    user = User(username=username, full_name=fields.pop("full_name", username), **fields)
    user.set_password(PASSWORD)
    user.save()
    for role in roles:
        assert unit is not None, "a role needs a unit"
        Membership.objects.create(user=user, unit=unit, role=role)
    return user


def make_tree() -> dict[str, OrgUnit]:
    """PROV > CITY > {COUNTY-A > STATION-A1, COUNTY-B, DIV}; OTHER is a second root."""
    province = make_unit("PROV", None, level="province", name_zh="省厅", name_en="Province")
    city = make_unit("CITY", province, level="city", name_zh="市局", name_en="City")
    county_a = make_unit("COUNTY-A", city, name_zh="甲县局", name_en="County A")
    county_b = make_unit("COUNTY-B", city, name_zh="乙县局", name_en="County B")
    station_a1 = make_unit("STATION-A1", county_a, level="station", name_zh="甲一派出所")
    division = make_unit("DIV", city, level="city", kind="division", name_zh="刑侦支队")
    other_city = make_unit("OTHER", None, level="city", name_zh="外市局", name_en="Other city")
    return {
        "province": province,
        "city": city,
        "county_a": county_a,
        "county_b": county_b,
        "station_a1": station_a1,
        "division": division,
        "other_city": other_city,
    }


def only(cells: Mapping[str, AbstractSet[str]]) -> dict[str, AbstractSet[str]]:
    """One operation's row of a matrix: the roles named succeed where given, the others nowhere."""
    unknown = set(cells) - set(MATRIX_ROLES)
    assert not unknown, f"not roles: {sorted(unknown)}"
    return {role: cells.get(role, NO_CELLS) for role in MATRIX_ROLES}


def relative_unit(tree: Any, relation: str) -> OrgUnit:
    """The unit of the tree fixture that stands in `relation` to COUNTY-A."""
    unit: OrgUnit = getattr(tree, RELATIVES[relation])
    return unit


def _check_table(expected: Expected, relations: Sequence[str]) -> None:
    for op, row in expected.items():
        unknown = set(row) - set(MATRIX_ROLES)
        assert not unknown, f"{op}: not roles: {sorted(unknown)}"
        for role, cells in row.items():
            assert cells <= set(relations), (
                f"{op} {role}: not relations: {set(cells) - set(relations)}"
            )


def log_in_actor(unit: OrgUnit, role: str) -> Client:
    """A client logged in as the matrix's actor, who holds just `role` at `unit`."""
    make_user("actor", unit, role)
    client = Client()
    assert client.login(username="actor", password=PASSWORD)
    return client


def refusals() -> int:
    return AuditEntry.objects.filter(action="access.denied").count()


def cell_fault(
    expected: Expected,
    op: str,
    role: str,
    relation: str,
    act: Callable[[], int],
    effect: Callable[[], bool | None] = lambda: None,
) -> str | None:
    """Run one cell and say what is wrong with it, or None.

    `act` performs the operation and returns its status, with the operation's own success
    codes (201, 302) already turned into 200. A cell is right when it answers 200 where the
    table allows it and 403 where not, when a write it performs (`effect` says whether the
    data changed; None for reads) changed the data exactly when allowed, and when a refusal
    was recorded in the audit trail once and an allowed call recorded none.
    """
    before = refusals()
    status = act()
    recorded = refusals() - before
    changed = effect()
    allowed = relation in expected[op].get(role, NO_CELLS)
    faults = []
    if status != (200 if allowed else 403):
        faults.append(f"answered {status}")
    if changed is not None and changed is not allowed:
        faults.append("the data changed" if changed else "the data did not change")
    if recorded != (0 if allowed else 1):
        faults.append(f"{recorded} refusals recorded (each refusal is recorded once)")
    if not faults:
        return None
    return f"{role} {op} on {relation} ({'allowed' if allowed else 'refused'}): " + ", ".join(
        faults
    )


@contextmanager
def _undone() -> Iterator[None]:
    """Run the block in a savepoint that is then rolled back."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def role_faults(
    expected: Expected,
    role: str,
    relations: Sequence[str],
    act: Callable[[str, str], int],
    effect: Callable[[str, str], bool | None] = lambda op, relation: None,
) -> list[str]:
    """Every operation × relation for one role against one world that is costly to build.

    `act(op, relation)` performs a cell and `effect(op, relation)` says afterwards whether
    its write changed the data (None for reads); each cell runs in a savepoint rolled back
    afterwards, so no cell sees another's writes. Returns every wrong cell, not just the first.
    """
    _check_table(expected, relations)
    faults = []
    for op in expected:
        for relation in relations:
            with _undone():
                fault = cell_fault(
                    expected,
                    op,
                    role,
                    relation,
                    functools.partial(act, op, relation),
                    functools.partial(effect, op, relation),
                )
            if fault is not None:
                faults.append(fault)
    return faults


def opened_parts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the zip parts opened from now on (the real ZipFile.open, watched)."""
    opened: list[str] = []
    real = zipfile.ZipFile.open

    def watched(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(getattr(name, "filename", name))
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", watched)
    return opened


def make_records(rows: Sequence[tuple[str, str, OrgUnit, str, str, str]]) -> Any:
    """Business records straight into the record store, as one applied import of their own:
    rows (record number, type code, unit, ISO date, class, quantity). For tests that count
    records; the import's own checks have their tests."""
    from duban.records import store
    from duban.records.models import ImportState, RecordImport, RecordType

    types = dict(RecordType.objects.values_list("code", "pk"))
    imp = RecordImport.objects.create(
        file_name="test.csv", sha256="0" * 64, file_format="csv", state=ImportState.APPLIED,
        rows_read=len(rows), rows_new=len(rows),
    )  # fmt: skip
    stored = [(rid, types[code], unit.pk, day, grade, quantity, "{}")
              for rid, code, unit, day, grade, quantity in rows]  # fmt: skip
    imp.stored_as = store.write_rows(stored, imp.pk)
    imp.save()
    return imp


def remove_records(where: str) -> None:
    """Take the held records matching a DuckDB condition out of their imports' files, as
    though the case system had withdrawn them: for the tests of a recompute that follows."""
    from duban.records import store
    from duban.records.models import ImportState, RecordImport

    for imp in RecordImport.objects.filter(state=ImportState.APPLIED).exclude(stored_as=""):
        kept = store.read_file(imp.stored_as, f"NOT ({where})")
        imp.stored_as = store.write_rows(kept, imp.pk)
        imp.save()
