"""Receivers that turn model saves and deletes, logins and refusals into audit entries."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from duban.audit.context import acting_as
from duban.audit.models import AuditedModel
from duban.audit.services import action_code, diff, record, snapshot


@receiver(post_save)
def _audit_save(sender: type, instance: Any, created: bool, raw: bool = False, **kw: Any) -> None:
    if raw or not isinstance(instance, AuditedModel):
        return
    after = snapshot(instance)
    if created:
        record(action_code(instance, "created"), obj=instance, after=after)
    else:
        before, changed = diff(instance._audit_loaded, after)
        if changed or instance._audit_loaded is None:
            record(action_code(instance, "updated"), obj=instance, before=before, after=changed)
    instance._audit_loaded = after


@receiver(post_delete)
def _audit_delete(sender: type, instance: Any, **kw: Any) -> None:
    if isinstance(instance, AuditedModel):
        record(action_code(instance, "deleted"), obj=instance, before=snapshot(instance))


def _client_ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_logged_in)
def _audit_login(sender: type, request: HttpRequest | None, user: Any, **kw: Any) -> None:
    with acting_as(actor=user, ip=_client_ip(request), source="web"):
        record("accounts.login.succeeded", obj=user)


@receiver(user_logged_out)
def _audit_logout(sender: type, request: HttpRequest | None, user: Any, **kw: Any) -> None:
    if user is not None:
        with acting_as(actor=user, ip=_client_ip(request), source="web"):
            record("accounts.logout", obj=user)


@receiver(user_login_failed)
def _audit_login_failed(
    sender: type, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any
) -> None:
    with acting_as(actor=None, ip=_client_ip(request), source="web"):
        record(
            "accounts.login.failed",
            object_type="accounts.user",
            object_repr=str(credentials.get("username", ""))[:150],
        )
