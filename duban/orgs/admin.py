from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from duban.admin import PolicyAdmin
from duban.orgs.models import OrgUnit, UnitMove


@admin.register(OrgUnit)
class OrgUnitAdmin(PolicyAdmin):
    """Names and flags only: adding and moving units go through the tree pages' services."""

    list_display = ["code", "name_zh", "name_en", "level", "kind", "parent", "is_active"]
    list_filter = ["level", "kind", "is_active"]
    search_fields = ["code", "name_zh", "name_en"]
    readonly_fields = ["code", "parent", "path", "depth", "level"]
    fields = [
        "code",
        "name_zh",
        "name_en",
        "level",
        "kind",
        "parent",
        "path",
        "depth",
        "sort_order",
        "is_active",
    ]

    unit_field = ""
    list_select_related = ["parent"]


@admin.register(UnitMove)
class UnitMoveAdmin(PolicyAdmin):
    """A move shows to whoever reaches the moved unit now: it is that unit's history. The
    administrator of a tree the unit has left no longer reads its moves."""

    unit_field = "unit"
    list_display = ["unit", "from_parent", "to_parent", "moved_at", "moved_by", "reason"]
    list_select_related = ["unit", "from_parent", "to_parent", "moved_by"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
