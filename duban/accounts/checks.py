"""`check --deploy` warns when the administrators may sign in with a password alone."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def second_factor_required(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DUBAN_REQUIRE_SECOND_FACTOR:
        return []
    return [
        Warning(
            "DUBAN_REQUIRE_SECOND_FACTOR is off: the system, security and audit administrators "
            "sign in with a password alone (MLPS level 3 asks two factors of them).",
            hint="Unset DUBAN_REQUIRE_SECOND_FACTOR (it is on by default) outside the demo.",
            id="duban.accounts.W001",
        )
    ]
