"""The header's to-do badge: the count of `services.items`, computed only when a page shows it
(and only for a signed-in person)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from duban.orgs import policy
from duban.todo import services
from duban.todo.services import Group, Item


class Badge:
    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def items(self) -> list[Item]:
        return services.items(self.user, timezone.localdate())

    @cached_property
    def count(self) -> int:
        return len(self.items)

    @cached_property
    def groups(self) -> list[Group]:
        return services.grouped(self.items)


def todo(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or policy.is_system(user):
        return {}
    if getattr(request, "duban_detour", False):  # before the second step: nothing of his yet
        return {}
    return {"todo": Badge(user)}
