"""The check every audited save goes through, whatever view, route, command or import made it.

A text with a control character (U+0000–U+001F but tab and line breaks, U+007F–U+009F)
is refused naming the model field, so a page form or an API body that uses the same
name shows the problem beside the field; a `None` in a column that cannot be NULL is
refused the same way instead of reaching the database as an IntegrityError (a 500).
Only what the save changes is checked: a row stored before this check, edited in some
other field, still saves (exports remove such characters, see duban.spreadsheets).

Bulk writes (`bulk_create`, `QuerySet.update`) send no signal: their writers check the
text themselves with `duban.text.first_control_character` / `control_character_message`.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from duban.core.json_input import check_json
from duban.errors import InputError, Problem
from duban.text import control_character_message


def _may_be_missing(field: models.Field[Any, Any]) -> bool:
    """Fields the database or Django fills in after this signal: the primary key, auto
    dates, database defaults."""
    return bool(
        field.null
        or field.primary_key
        or getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
        or field.has_db_default()
        or isinstance(field, models.GeneratedField)
    )


def field_problems(instance: models.Model, fields: set[str] | None = None) -> list[Problem]:
    """What no column may hold, in the fields of `instance` that differ from the row as
    loaded (all of them for a new row), or only in `fields` when given."""
    loaded: dict[str, Any] | None = getattr(instance, "_audit_loaded", None)
    exclude: frozenset[str] = getattr(instance, "input_check_exclude", frozenset())
    deferred = instance.get_deferred_fields()
    problems: list[Problem] = []
    for field in instance._meta.concrete_fields:
        if field.name in exclude or field.attname in deferred:
            continue
        if fields is not None and field.name not in fields and field.attname not in fields:
            continue
        value = getattr(instance, field.attname)
        if loaded is not None and field.attname in loaded and loaded[field.attname] == value:
            continue
        if value is None:
            if not _may_be_missing(field):
                problems.append(Problem(field.name, str(field.error_messages["null"])))
        elif isinstance(value, str):
            message = control_character_message(value)
            if message:
                problems.append(Problem(field.name, message))
        elif isinstance(field, models.JSONField):
            problems.extend(check_json(value, where=field.name))
    return problems


def check_before_save(
    sender: type, instance: Any, raw: bool = False, update_fields: Any = None, **kw: Any
) -> None:
    """pre_save receiver for every AuditedModel (connected in CoreConfig.ready)."""
    from duban.audit.models import AuditedModel

    if raw or not isinstance(instance, AuditedModel):
        return
    problems = field_problems(instance, set(update_fields) if update_fields else None)
    if problems:
        raise InputError(problems)
