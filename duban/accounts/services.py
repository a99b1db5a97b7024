"""Accounts: created, switched off and given passwords by a security administrator."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from duban.accounts.models import User
from duban.audit.services import record
from duban.errors import DubanError, Problem
from duban.orgs import policy
from duban.orgs.models import OrgUnit, Role
from duban.orgs.policy import Action
from duban.orgs.services import grant_role


class AccountError(DubanError):
    """An account change that cannot be made."""


@transaction.atomic
def create_account(
    *,
    user: User | None,
    unit: OrgUnit,
    username: str,
    full_name: str,
    password: str,
    role: Role | str,
    language: str = "",
) -> User:
    """Create a person at `unit` with a first role; the password must meet the policy."""
    if user is not None:
        policy.require(user, Action.MANAGE_ACCOUNTS, unit)
    problems: list[Problem] = []
    if not username.strip():
        problems.append(Problem("username", "is empty"))
    elif User.objects.filter(username=username).exists():
        problems.append(Problem("username", f"{username!r} is taken"))
    if role not in Role.values:
        problems.append(Problem("role", f"{role!r} is not a role"))
    candidate = User(username=username, full_name=full_name)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        problems.extend(Problem("password", str(m)) for m in exc.messages)
    if problems:
        raise AccountError(problems)
    account = User(username=username, full_name=full_name, language=language)
    account.set_password(password)
    account.save()
    grant_role(account, unit, Role(role), user=user)
    return account


@transaction.atomic
def set_language(account: User, language: str) -> None:
    """Each person chooses his language; empty follows the browser."""
    from django.conf import settings

    if language and language not in dict(settings.LANGUAGES):
        raise AccountError(f"{language!r} is not offered", "language")
    account.language = language
    account.save(update_fields=["language"])


@transaction.atomic
def deactivate_account(account: User, *, user: User, reason: str) -> None:
    """Switch an account off (never deleted: the audit trail names it)."""
    units = list(OrgUnit.objects.filter(memberships__user=account).distinct())
    if not units or not all(policy.can(user, Action.MANAGE_ACCOUNTS, u) for u in units):
        raise policy.PermissionDenied("the account has roles outside your reach")
    if not reason.strip():
        raise AccountError("switching an account off needs a reason", "reason")
    account.is_active = False
    account.save(update_fields=["is_active"])
    record("accounts.user.deactivated", obj=account, reason=reason)
