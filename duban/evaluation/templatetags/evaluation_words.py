"""Rules in words on the evaluation pages: `{{ kind|rule_kind }}`, `{{ rule|rule_words:points }}`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django import template

from duban.evaluation.rule_words import kind_name, rule_sentence

register = template.Library()


@register.filter
def rule_kind(kind: str) -> str:
    return kind_name(str(kind))


@register.filter
def rule_words(rule: Mapping[str, object], points: Decimal | int | str) -> str:
    return rule_sentence(rule, points) if isinstance(rule, Mapping) else ""


@register.filter
def get_item(mapping: Mapping[str, str], key: str) -> str:
    """`{{ names|get_item:code }}`: a name by its code (empty when unknown)."""
    return mapping.get(str(key), "") if isinstance(mapping, Mapping) else ""
