"""Names for the fields and models Django named after their code (no `verbose_name` given),
so the audit trail never shows an attribute name. A field or model that states its own
translated `verbose_name` needs nothing here; `test_entry_types` fails on one that does neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FIELDS: dict[str, Promise] = {
    "id": _("number"),
    "approved_by_id": _("approved by"),
    "author_id": _("author"),
    "category_id": _("category"),
    "content_type": _("file type"),
    "created_at": _("created at"),
    "created_by_id": _("created by"),
    "data_set_id": _("data set"),
    "depth": _("depth in the tree"),
    "email_to": _("e-mailed to"),
    "email_wanted": _("e-mail wanted"),
    "emailed_at": _("e-mailed at"),
    "evidence": _("evidence file"),
    "evidence_name": _("evidence file name"),
    "file": _("file"),
    "finalised_by_id": _("finalised by"),
    "from_parent_id": _("former parent unit"),
    "goal_id": _("goal"),
    "granted_at": _("granted at"),
    "granted_by_id": _("granted by"),
    "group_id": _("peer group"),
    "indicator_id": _("indicator"),
    "issued_by_id": _("issued by"),
    "item_id": _("scheme item"),
    "locked_by_id": _("locked by"),
    "lodged_by_id": _("lodged by"),
    "meeting_id": _("meeting"),
    "milestone_id": _("milestone"),
    "moved_at": _("moved at"),
    "moved_by_id": _("moved by"),
    "name": _("name"),
    "new_path": _("new place in the tree"),
    "old_path": _("former place in the tree"),
    "opened_at": _("opened at"),
    "opened_by_id": _("opened by"),
    "path": _("place in the tree"),
    "publication_id": _("published results"),
    "published_by_id": _("published by"),
    "reason": _("reason"),
    "replied_by_id": _("replied by"),
    "report_id": _("progress report"),
    "ruled_by_id": _("ruled by"),
    "scheme_id": _("evaluation scheme"),
    "sha256": _("SHA-256 digest"),
    "size": _("size in bytes"),
    "snapshot": _("results snapshot"),
    "sort_order": _("sort order"),
    "submission_id": _("form"),
    "submitted_by_id": _("submitted by"),
    "task_id": _("task"),
    "to_parent_id": _("new parent unit"),
    "unit_id": _("unit"),
    "updated_at": _("updated at"),
    "updated_by_id": _("updated by"),
    "uploaded_at": _("uploaded at"),
    "uploaded_by_id": _("uploaded by"),
    "user_id": _("account"),
    "values": _("figures"),
}

MODELS: dict[str, Promise] = {
    "evaluation.category": _("scheme category"),
    "evaluation.groupmember": _("peer group member"),
    "evaluation.objection": _("objection"),
    "evaluation.peergroup": _("peer group"),
    "evaluation.publication": _("published results"),
    "evaluation.schemeitem": _("scheme item"),
    "evaluation.target": _("target"),
    "indicators.datasetmember": _("indicator of a data set"),
    "meetings.cadence": _("working mechanism"),
    "meetings.cadencerecord": _("mechanism record"),
    "meetings.decidedmatter": _("decided matter"),
    "meetings.meetingunit": _("attending unit"),
    "tasks.evidence": _("task evidence file"),
    "tasks.goalstep": _("goal for a year"),
    "tasks.milestone": _("milestone"),
    "tasks.progressreport": _("progress report"),
    "tasks.reminder": _("reminder"),
    "tasks.taskpartner": _("co-operating unit"),
}

#: Fields whose stored codes (one, or a list of them) are labelled by choices the owning app
#: knows; it registers them at start-up (`register_value_labels`), the audit app sitting below it.
VALUE_LABELS: dict[tuple[str, str], Callable[[], Iterable[tuple[str, Any]]]] = {}


def register_value_labels(
    model: str, attname: str, choices: Callable[[], Iterable[tuple[str, Any]]]
) -> None:
    """Show `model.attname`'s codes by their labels in the trail (e.g. reporting levels)."""
    VALUE_LABELS[(model, attname)] = choices


def value_label(model: str, attname: str, code: Any) -> str | None:
    """The label of one stored code of a registered field, or None."""
    choices = VALUE_LABELS.get((model, attname))
    if choices is None:
        return None
    return next((str(label) for value, label in choices() if str(value) == str(code)), None)


# Fields that hold another row's code rather than a key: shown by that row's name.
CODE_FIELDS: dict[tuple[str, str], tuple[str, str]] = {
    ("evaluation.schemeitem", "indicator"): ("indicators.indicator", "code"),
    ("tasks.task", "indicator_code"): ("indicators.indicator", "code"),
}


def field_label(field: models.Field[object, object] | None, attname: str) -> str | None:
    """The field's translated name, or None when it has none (its code name would show)."""
    if field is not None and isinstance(field.verbose_name, Promise):
        return str(field.verbose_name)
    label = FIELDS.get(attname)
    return str(label) if label is not None else None


def model_label(model: type[models.Model]) -> str | None:
    """The model's translated name, or None when it has none."""
    name = model._meta.verbose_name
    if isinstance(name, Promise):
        return str(name)
    label = MODELS.get(model._meta.label_lower)
    return str(label) if label is not None else None
