"""Small factories for tests: defaults for everything, overrides by keyword."""

from __future__ import annotations

from typing import Any

from duban.accounts.models import User
from duban.orgs.models import Membership, OrgUnit

PASSWORD = "Test-pass-2017!"

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
