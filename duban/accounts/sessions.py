"""Sessions of an account: when they began, and ending all of them but this one."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.http import HttpRequest

from duban.accounts.middleware import SEEN_AT, SIGNED_IN_AT
from duban.accounts.models import User
from duban.audit.services import record


@receiver(user_logged_in)
def _stamp(sender: Any, request: HttpRequest | None, user: User, **kw: Any) -> None:
    """The sign-in time, for the absolute expiry."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[SEEN_AT] = now


@transaction.atomic
def end_other_sessions(request: HttpRequest, account: User) -> None:
    """ "Sign out everywhere else": a new session generation ends every session of the
    account on every machine at its next request; this one is signed again and stays."""
    User.objects.filter(pk=account.pk).update(session_epoch=F("session_epoch") + 1)
    account.refresh_from_db(fields=["session_epoch"])
    record("accounts.sessions.ended", obj=account)
    update_session_auth_hash(request, account)
