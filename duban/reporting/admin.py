"""Figures in the admin: read-only. Figures are written by `reporting.values` alone (the
forms, the imports, the transitions), which keeps the year-to-date totals and the trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from duban.admin import PolicyAdmin
from duban.reporting.models import DataValue


@admin.register(DataValue)
class DataValueAdmin(PolicyAdmin):
    unit_field = "unit"
    list_display = ["unit", "indicator", "period", "value", "state", "updated_at"]
    list_filter = ["state"]
    search_fields = ["unit__code", "indicator__code", "period"]
    list_select_related = ["unit", "indicator"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in DataValue._meta.concrete_fields]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)
