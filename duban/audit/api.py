"""Reading the audit trail: audit administrators, within their subtree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema

from duban.audit.models import AuditEntry
from duban.audit.types import Rendered, render
from duban.orgs.policy import Action
from duban.web import AuthenticatedHttpRequest, unit_or_403

router = Router(tags=["audit"])


class EntryOut(Schema):
    id: int
    at: datetime
    actor: str
    ip: str | None
    source: str
    action: str  # the code, stable for programs
    label: str  # the code in words, in the caller's language
    text: str  # the entry as a sentence (names, not codes)
    object_type: str
    object_id: str
    object_repr: str
    unit: str | None
    before: Any
    after: Any
    reason: str
    # False when the entry no longer carries its own MAC (edited, moved, or forged): shown,
    # not hidden, so the audit administrator sees what was tampered with.
    intact: bool


def entry_out(r: Rendered) -> EntryOut:
    e = r.entry
    return EntryOut(
        id=e.pk,
        at=e.at,
        actor=e.actor_name,
        ip=e.ip,
        source=e.source,
        action=e.action,
        label=r.label,
        text=r.text,
        object_type=e.object_type,
        object_id=e.object_id,
        object_repr=e.object_repr,
        unit=e.unit.code if e.unit_id and e.unit else None,
        before=e.before,
        after=e.after,
        reason=e.reason,
        intact=e.intact,
    )


@router.get("/units/{code}/entries", response=list[EntryOut])
def unit_entries(
    request: AuthenticatedHttpRequest,
    code: str,
    subtree: bool = False,
    limit: int = 200,
    before_id: int | None = None,
) -> list[EntryOut]:
    """A unit's history, newest first; `subtree=true` adds the units below it."""
    unit = unit_or_403(request, code, Action.VIEW_AUDIT)
    entries = AuditEntry.objects.select_related("unit")
    entries = entries.for_unit_subtree(unit.path) if subtree else entries.filter(unit=unit)
    if before_id:
        entries = entries.filter(pk__lt=before_id)
    return [entry_out(r) for r in render(entries.order_by("-pk")[: max(1, min(limit, 1000))])]
