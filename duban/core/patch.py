"""What a PATCH body changes: the one reading every PATCH route of the API uses."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext
from ninja import Schema

from duban.errors import InputError, Problem


def _may_be_null(model: type[models.Model], name: str) -> bool:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(getattr(field, "concrete", False) and field.null)


def patch_changes(
    payload: Schema, *, model: type[models.Model], nullable: Collection[str] = ()
) -> dict[str, Any]:
    """The fields a PATCH body sets. A PATCH schema's fields are optional, so pydantic lets
    `null` through for each; it is refused, naming the field, unless the model's column may
    be NULL or the route says what `null` means there (`nullable`). Leaving a field out
    keeps its value."""
    changes: dict[str, Any] = payload.dict(exclude_unset=True)
    problems = [
        Problem(name, gettext("may not be null: leave the field out to keep its value"))
        for name, value in changes.items()
        if value is None and name not in nullable and not _may_be_null(model, name)
    ]
    if problems:
        raise InputError(problems)
    return changes
