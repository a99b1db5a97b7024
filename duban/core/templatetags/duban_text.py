"""Template filters every app's pages share for showing text to people."""

from __future__ import annotations

from django import template

from duban.text import period_in_words, where_in_words

register = template.Library()


@register.filter
def where(place: str) -> str:
    """A problem's place in the reader's language: `{{ p.where|where }}`."""
    return where_in_words(str(place))


@register.filter
def period_name(period_id: str) -> str:
    """A period by name, never its identifier: `{{ period.id|period_name }}` → 2017年10月."""
    return period_in_words(str(period_id))
