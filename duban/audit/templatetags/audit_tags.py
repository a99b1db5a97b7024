"""Show an entry's before/after as readable field changes rather than raw JSON."""

from __future__ import annotations

from typing import Any

from django import template

from duban.audit.models import AuditEntry

register = template.Library()


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


@register.filter
def changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(field, before, after) rows; a create shows only after, a delete only before."""
    before = entry.before if isinstance(entry.before, dict) else {}
    after = entry.after if isinstance(entry.after, dict) else {}
    fields = list(dict.fromkeys([*before, *after]))
    return [
        (f, _show(before.get(f)) if before else "", _show(after.get(f)) if after else "")
        for f in fields
    ]
