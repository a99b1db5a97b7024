"""Sign-in lockout (MLPS level 3, ASVS 2.2.1), by django-axes: five failures within fifteen
minutes lock the account name, and five from one address lock the address, for fifteen
minutes, or until the security administrator unlocks the account. Every lock and unlock is
in the audit trail.

`LockoutBackend` is axes' backend, except that a sign-in without a request (the test
client's `login`, a shell) is not counted: only the login page can be hammered from outside.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from duban.accounts.models import User
from duban.audit.context import acting_as
from duban.audit.services import record
from duban.orgs import policy


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)  # type: ignore[no-any-return]


def _address(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_locked_out)
def _audit_lock(
    sender: Any, request: HttpRequest | None = None, username: str | None = None,
    ip_address: str | None = None, **kw: Any,
) -> None:  # fmt: skip
    with acting_as(actor=None, ip=ip_address or _address(request), source="web"):
        record(
            "accounts.login.locked",
            object_type="accounts.user",
            object_repr=(username or "")[:150],
            after={"address": ip_address or ""},
        )


def locked_usernames(usernames: list[str]) -> set[str]:
    """Which of these account names are locked now (failures within the cool-off)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames,
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=since,
        ).values_list("username", flat=True)
    )


@transaction.atomic
def unlock(account: User, *, user: User) -> None:
    """The security administrator lifts a lock on an account before its time runs out."""
    if not policy.manages_account(user, account):
        raise policy.PermissionDenied(_("the account has roles outside your reach"))
    reset(username=account.username)
    record("accounts.login.unlocked", obj=account)


def locked_out(request: HttpRequest, response: Any, credentials: Any) -> HttpResponse:
    """What a locked sign-in gets (axes' AXES_LOCKOUT_CALLABLE): 429 and what to do, in the
    reader's language."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked.html", {"cooloff_minutes": minutes}, status=429)
