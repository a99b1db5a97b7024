"""Template helpers for figures: look one up by indicator and show it without float noise;
the last 催报 of a unit not yet reported."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

from duban.indicators.models import Indicator, fmt
from duban.orgs.models import OrgUnit
from duban.reporting.history import Reminder, reminder_for

register = template.Library()


@register.simple_tag
def figure(figures: dict[str, Decimal | None], indicator: Indicator) -> str:
    """The indicator's figure, rounded half-up to its places (computed and averaged ones), or —."""
    value = figures.get(indicator.code)
    if value is None:
        return "—"
    return fmt(value.quantize(Decimal(1).scaleb(-indicator.decimals), rounding=ROUND_HALF_UP))


@register.simple_tag
def reminded(reminders: dict[str, Reminder], unit: OrgUnit, state: str | None) -> Reminder | None:
    """The last 催报 that named `unit`, while it has not reported (`history.reminder_for`)."""
    return reminder_for(reminders, unit, state)
