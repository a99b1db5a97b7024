from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from duban.admin import PolicyAdmin
from duban.orgs import policy
from duban.orgs.models import OrgUnit, UnitMove
from duban.orgs.policy import Action


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

    def get_queryset(self, request: HttpRequest) -> Any:
        return policy.visible_units(request.user, Action.EDIT_TREE).select_related("parent")  # type: ignore[arg-type]


@admin.register(UnitMove)
class UnitMoveAdmin(PolicyAdmin):
    list_display = ["unit", "from_parent", "to_parent", "moved_at", "moved_by", "reason"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
