"""The Django admin, for system administrators' configuration, asking the same policy."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from duban.core.saving import field_problems
from duban.orgs import policy
from duban.orgs.policy import Action


class DubanAdminSite(admin.AdminSite):
    site_header = _("Duban configuration")
    site_title = _("Duban")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and policy.can_any(user, Action.EDIT_TREE))  # type: ignore[arg-type]

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """One login page for the whole product; a signed-in non-administrator gets a 403."""
        if request.user.is_authenticated:
            raise PermissionDenied(_("the configuration pages are for system administrators"))
        return redirect_to_login(
            request.GET.get("next", reverse("admin:index")), reverse("accounts:login")
        )


class CheckedForm(forms.ModelForm):  # type: ignore[type-arg]
    """The admin's form runs the check every save runs (duban.core.saving), so a control
    character typed here is named beside its field instead of failing the save (a 500)."""

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        for problem in field_problems(self.instance, set(self.changed_data)):
            self.add_error(problem.where if problem.where in self.fields else None, problem.message)


class PolicyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Model admin whose every permission is the policy's EDIT_TREE (system administrator),
    and whose rows are only those of the units that action reaches for him.

    Each subclass states `unit_field`, the lookup from a row to the unit deciding whether it is
    shown ("" for a unit itself). Lists, change pages and history all read `get_queryset`, so
    a Yongzhou administrator never opens a Shaanxi row; a subclass that states nothing fails
    loudly here, and `orgs/tests/test_admin.py` walks every registration.
    """

    action = Action.EDIT_TREE
    unit_field: ClassVar[str | None] = None
    form = CheckedForm

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        if self.unit_field is None:
            raise ImproperlyConfigured(f"{type(self).__name__} does not state its unit_field")
        units = policy.visible_units(request.user, self.action)  # type: ignore[arg-type]
        lookup = f"{self.unit_field}__in" if self.unit_field else "pk__in"
        return super().get_queryset(request).filter(**{lookup: units})

    def _allowed(self, request: HttpRequest) -> bool:
        return policy.can_any(request.user, self.action)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)
