"""The password rule MLPS level 3 asks for beyond Django's validators: at least three of the
four kinds of character (capitals, small letters, digits, symbols), so `aaaaaaaaaaaa` and
`1234567890` are refused however long they are."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


def character_classes(password: str) -> int:
    """How many of capitals, small letters, digits and other characters the password uses."""
    kinds = (str.isupper, str.islower, str.isdigit)
    found = {k for c in password for k, test in enumerate(kinds) if test(c)}
    if any(not (c.isupper() or c.islower() or c.isdigit()) for c in password):
        found.add(3)
    return len(found)


class CharacterClassesValidator:
    """Django's validator interface (AUTH_PASSWORD_VALIDATORS) for the rule above."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_plain")

    def get_help_text(self) -> str:
        return ngettext(
            "The password must mix at least %(n)d kind of character: capitals, small letters, "
            "digits, symbols.",
            "The password must mix at least %(n)d kinds of character: capitals, small letters, "
            "digits, symbols.",
            self.min_classes,
        ) % {"n": self.min_classes}
