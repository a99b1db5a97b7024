"""Template helpers for figures: look one up by indicator and show it without float noise."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

from duban.indicators.models import Indicator, fmt

register = template.Library()


@register.simple_tag
def figure(figures: dict[str, Decimal | None], indicator: Indicator) -> str:
    """The indicator's figure, rounded half-up to its places (computed and averaged ones), or —."""
    value = figures.get(indicator.code)
    if value is None:
        return "—"
    return fmt(value.quantize(Decimal(1).scaleb(-indicator.decimals), rounding=ROUND_HALF_UP))
