"""Whether the signed-in person has a cockpit, for the main navigation."""

from __future__ import annotations

from typing import Any

from django import template

from duban.cockpit.services import gets_cockpit

register = template.Library()


@register.simple_tag
def has_cockpit(user: Any) -> bool:
    return bool(user.is_authenticated) and gets_cockpit(user)
