"""Template filters every app's pages share for showing text to people."""

from __future__ import annotations

from django import template

from duban.text import where_in_words

register = template.Library()


@register.filter
def where(place: str) -> str:
    """A problem's place in the reader's language: `{{ p.where|where }}`."""
    return where_in_words(str(place))
