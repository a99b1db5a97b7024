"""Writing the audit trail (verifying it: duban.audit.verify).

`record()` is the one way an entry is written. It must run inside the same
transaction as the change it describes: it locks the chain head, gives the new
entry the next position and id, signs it with the previous MAC and moves the
head, so a failure anywhere rolls the change back with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from duban.audit.chain import entry_mac, head_mac
from duban.audit.context import current
from duban.audit.models import AuditEntry, AuditHead

SECRET = "[changed]"


class AuditChainError(RuntimeError):
    """The chain cannot be extended (its head is gone): nothing is written until it is repaired."""


def _to_jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def snapshot(obj: models.Model, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The concrete field values of a row, as JSON-ready data (secrets masked).

    `values` are the row's values as loaded (`AuditedModel.from_db`) when the snapshot is of
    the row as it was read rather than as it is now; a field missing there was deferred."""
    exclude: frozenset[str] = getattr(obj, "audit_exclude", frozenset())
    deferred = obj.get_deferred_fields() if values is None else set()
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.attname in exclude or field.name in exclude or field.attname in deferred:
            continue
        if values is None:
            value = field.value_from_object(obj)
        elif field.attname in values:
            value = values[field.attname]
        else:
            continue
        if isinstance(field, models.FileField):
            value = getattr(value, "name", value) or ""  # the stored path, not the file object
        data[field.attname] = value
    if "password" in data:
        data["password"] = SECRET
    return _to_jsonable(data)


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[Any, Any]:
    """Keep only the fields that changed (all of them for a create or delete)."""
    if before is None or after is None:
        return before, after
    changed = sorted(k for k in after.keys() | before.keys() if before.get(k) != after.get(k))
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


def record(
    action: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    unit_id: int | None = None,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    jsonable: bool = False,
) -> AuditEntry:
    """Append one entry to the chain, attributed to the current audit context.

    `jsonable`: `before` and `after` are JSON data already (dicts with str keys, lists, str,
    int, bool, None), so they are not round-tripped through the encoder first (a bulk
    import's 100,000 changes: a tenth of a second each way)."""
    ctx = current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if unit_id is None and hasattr(obj, "audit_unit_id"):
            unit_id = obj.audit_unit_id()
    # A person is kept by id; the system actor (pk None) and anonymous requests are not
    # accounts: the entry names the system, or the request's source.
    signed_in = ctx.actor is not None and ctx.actor.is_authenticated
    actor: Any = ctx.actor if signed_in and getattr(ctx.actor, "pk", None) is not None else None
    system = signed_in and actor is None
    with transaction.atomic():
        head, created = AuditHead.objects.select_for_update().get_or_create(pk=1)
        if created and AuditEntry.objects.exists():
            raise AuditChainError(
                "the audit chain head is missing while entries exist; run `duban audit verify`"
            )
        entry = AuditEntry(
            # Ids follow the head rather than a database sequence, so the MAC can cover the id
            # and no id is ever skipped on a rollback.
            id=head.last_entry_id + 1,
            seq=head.count + 1,
            # Microseconds are dropped so the stored time hashes the same on every database.
            at=timezone.now().replace(microsecond=0),
            actor=actor,
            actor_name=(actor.get_username() if actor else "system" if system else ctx.source)[
                :150
            ],
            ip=ctx.ip,
            source=ctx.source[:40],
            action=action,
            object_type=object_type,
            object_id=object_id[:64],
            object_repr=object_repr[:200],
            unit_id=unit_id,
            before=before if jsonable else _to_jsonable(before),
            after=after if jsonable else _to_jsonable(after),
            reason=ctx.reason if reason is None else reason,
            prev_hash=head.last_hash,
        )
        entry.hash = entry_mac(entry)
        entry.save(force_insert=True)
        head.last_entry_id = entry.pk
        head.last_hash = entry.hash
        head.count = entry.seq
        head.mac = head_mac(head.count, head.last_entry_id, head.last_hash)
        head.save()
    return entry


def action_code(obj: models.Model, verb: str) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}.{verb}"


def record_bulk_create(objs: Iterable[models.Model]) -> None:
    """Audit rows written with bulk_create (which sends no signals)."""
    for obj in objs:
        record(action_code(obj, "created"), obj=obj, after=snapshot(obj))


def audited_update(queryset: models.QuerySet[Any], reason: str | None = None, **values: Any) -> int:
    """`queryset.update(...)` with one audit entry per changed row, before and after."""
    with transaction.atomic():
        rows = list(queryset.select_for_update())
        befores = {row.pk: snapshot(row) for row in rows}
        count = queryset.model._default_manager.filter(pk__in=[r.pk for r in rows]).update(**values)
        for row in queryset.model._default_manager.filter(pk__in=list(befores)):
            before, after = diff(befores[row.pk], snapshot(row))
            if after:
                record(
                    action_code(row, "updated"), obj=row, before=before, after=after, reason=reason
                )
    return count
