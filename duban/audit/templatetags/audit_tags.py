"""Action codes in words for any template: `{{ entry.action|action_label }}`."""

from __future__ import annotations

from django import template

from duban.audit.types import registry

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    """The translated label of an action code (a clear fallback for an unknown one)."""
    return registry.label(code)
