"""Saving an item from its editor: points, rule, texts and units' targets in one transaction
(all or nothing), through ``services.update_item`` and ``services.set_targets`` (audited,
re-checked by the engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from duban.evaluation import services
from duban.evaluation.models import SchemeItem

if TYPE_CHECKING:
    from duban.orgs.policy import Actor


def save_item(
    item: SchemeItem,
    *,
    user: Actor,
    points: str,
    target: str,
    rule: dict[str, Any],
    rule_text: str,
    targets: dict[str, str],
) -> SchemeItem:
    """Every change of the item editor or nothing: a refused target undoes the rule too."""
    with transaction.atomic():
        services.update_item(
            item, user=user, points=points, target=target, rule=rule, rule_text=rule_text
        )
        existing = {t.unit.code for t in item.targets.select_related("unit")}
        changed = {code: value for code, value in targets.items() if value or code in existing}
        if changed:
            services.set_targets(item, changed, user=user)
    return item
