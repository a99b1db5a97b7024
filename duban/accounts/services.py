"""Accounts: created, switched off and given roles by a security administrator.

He manages only the accounts of his own tree (`policy.managed_accounts`). Whatever he names
beyond it — an account of another organisation, an administrator there, a name nobody has —
gets one answer, the same status and words, so his answers tell him nothing of what exists
elsewhere; the attempt is recorded as a refused access for the audit administrator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from duban.accounts.models import User
from duban.audit.services import record
from duban.errors import DubanError, Problem
from duban.orgs import policy
from duban.orgs.models import Membership, OrgUnit, Role
from duban.orgs.policy import Action
from duban.orgs.services import grant_role, revoke_role

if TYPE_CHECKING:
    from duban.orgs.policy import Actor


class AccountError(DubanError):
    """An account change that cannot be made."""


def _refused(attempt: str, *, unit: OrgUnit | None = None) -> None:
    """Record a request for something beyond the administrator's reach, answered as absent.

    Not inside the change's transaction: the refusal is raised right after and would roll
    the record back with it."""
    record(
        "access.denied",
        object_type="accounts",
        object_repr=attempt[:200],
        unit_id=unit.pk if unit else None,
        after={"attempt": attempt},
    )


def managed_account(user: User, username: str, *, unit: OrgUnit) -> User:
    """The account `username` if `user` manages it; else the one refusal (see the module)."""
    account = policy.managed_accounts(user).filter(username=username).first()
    if account is None:
        _refused(f"account {username} at {unit.code}", unit=unit)
        raise AccountError(
            _("no account with this user name among the accounts you manage"), "username"
        )
    return account


def managed_membership(
    user: User, membership_id: object, *, unit: OrgUnit | None = None
) -> Membership:
    """A role held at a unit within `user`'s reach (at `unit`, if given); else a 404 that reads
    the same for a role elsewhere and for none at all."""
    roles = policy.managed_memberships(user).select_related("unit", "user")
    if unit is not None:
        roles = roles.filter(unit=unit)
    try:
        found = roles.filter(pk=int(str(membership_id))).first()
    except ValueError:
        found = None
    if found is None:
        _refused(f"role {membership_id}", unit=unit)
        raise Http404(_("no such role among the roles you manage"))
    return found


def grant(*, user: User, unit: OrgUnit, username: str, role: str) -> Membership:
    """Give an account of his tree a role at a unit of his tree."""
    policy.require(user, Action.MANAGE_ACCOUNTS, unit)
    account = managed_account(user, username, unit=unit)
    if role not in Role.values:
        raise AccountError(_("%(role)s is not a role") % {"role": role}, "role")
    return grant_role(account, unit, Role(role), user=user)


def revoke(
    *, user: User, membership_id: object, reason: str = "", unit: OrgUnit | None = None
) -> None:
    """Withdraw a role held at a unit of his tree (whoever holds it)."""
    revoke_role(managed_membership(user, membership_id, unit=unit), user=user, reason=reason)


@transaction.atomic
def create_account(
    *,
    user: Actor,
    unit: OrgUnit,
    username: str,
    full_name: str,
    password: str,
    role: Role | str,
    language: str = "",
) -> User:
    """Create a person at `unit` with a first role; the password must meet the policy."""
    policy.require(user, Action.MANAGE_ACCOUNTS, unit)
    problems: list[Problem] = []
    if not username.strip():
        problems.append(Problem("username", _("enter a user name")))
    elif User.objects.filter(username=username).exists():
        # The same words wherever the account lives: a name is unique across the installation,
        # so that it is taken cannot be hidden, but nothing more of the account is told.
        problems.append(Problem("username", _("this user name is already in use")))
    if role not in Role.values:
        problems.append(Problem("role", _("%(role)s is not a role") % {"role": role}))
    candidate = User(username=username, full_name=full_name)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        problems.extend(Problem("password", str(m)) for m in exc.messages)
    if problems:
        raise AccountError(problems)
    account = User(
        username=username, full_name=full_name, language=language, must_change_password=True
    )
    account.set_password(password)
    account.save()
    grant_role(account, unit, Role(role), user=user)
    return account


@transaction.atomic
def set_language(account: User, language: str) -> None:
    """Each person chooses his language; empty follows the browser."""
    from django.conf import settings

    if language and language not in dict(settings.LANGUAGES):
        raise AccountError(
            _("%(language)s is not offered") % {"language": repr(language)}, "language"
        )
    account.language = language
    account.save(update_fields=["language"])


@transaction.atomic
def deactivate_account(account: User, *, user: User, reason: str) -> None:
    """Switch an account off (never deleted: the audit trail names it)."""
    if not policy.manages_account(user, account):
        raise policy.PermissionDenied(_("the account has roles outside your reach"))
    if not reason.strip():
        raise AccountError(_("switching an account off needs a reason"), "reason")
    account.is_active = False
    account.save(update_fields=["is_active"])
    record("accounts.user.deactivated", obj=account, reason=reason)
