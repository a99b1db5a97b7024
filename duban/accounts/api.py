"""Who am I, and account management for security administrators."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from duban.accounts import services
from duban.accounts.current import user_of
from duban.accounts.models import User
from duban.orgs import policy
from duban.orgs import services as org_services
from duban.orgs.api import unit_for
from duban.orgs.models import Membership, Role
from duban.orgs.policy import Action

router = Router(tags=["accounts"])


class RoleOut(Schema):
    id: int
    unit: str
    unit_name: str
    role: str


class MeOut(Schema):
    username: str
    full_name: str
    language: str
    roles: list[RoleOut]


class MemberOut(Schema):
    id: int
    username: str
    full_name: str
    is_active: bool
    roles: list[RoleOut]


class AccountIn(Schema):
    username: str
    full_name: str = ""
    password: str
    role: str
    language: str = ""


class GrantIn(Schema):
    username: str
    role: str


class LanguageIn(Schema):
    language: str


def _roles(memberships: list[Membership]) -> list[RoleOut]:
    return [
        RoleOut(id=m.pk, unit=m.unit.code, unit_name=m.unit.name, role=m.role) for m in memberships
    ]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    user = user_of(request)
    return MeOut(
        username=user.username,
        full_name=user.full_name,
        language=user.language,
        roles=_roles(list(user.memberships.select_related("unit"))),
    )


@router.post("/me/language", response=MeOut)
def set_language(request: HttpRequest, payload: LanguageIn) -> MeOut:
    services.set_language(user_of(request), payload.language)
    return me(request)


@router.get("/units/{code}/members", response=list[MemberOut])
def members(request: HttpRequest, code: str) -> list[MemberOut]:
    """People holding a role at this unit (security administrators only)."""
    unit = unit_for(request, code, Action.MANAGE_ACCOUNTS)
    users = User.objects.filter(memberships__unit=unit).distinct().order_by("username")
    return [
        MemberOut(
            id=u.pk,
            username=u.username,
            full_name=u.full_name,
            is_active=u.is_active,
            roles=_roles(list(u.memberships.select_related("unit"))),
        )
        for u in users
    ]


@router.post("/units/{code}/members", response={201: MemberOut})
def create_member(request: HttpRequest, code: str, payload: AccountIn) -> Status[MemberOut]:
    unit = unit_for(request, code, Action.MANAGE_ACCOUNTS)
    account = services.create_account(
        user=user_of(request),
        unit=unit,
        username=payload.username,
        full_name=payload.full_name,
        password=payload.password,
        role=payload.role,
        language=payload.language,
    )
    return Status(
        201,
        MemberOut(
            id=account.pk,
            username=account.username,
            full_name=account.full_name,
            is_active=account.is_active,
            roles=_roles(list(account.memberships.select_related("unit"))),
        ),
    )


@router.post("/units/{code}/roles", response={201: RoleOut})
def grant(request: HttpRequest, code: str, payload: GrantIn) -> Status[RoleOut]:
    unit = unit_for(request, code, Action.MANAGE_ACCOUNTS)
    member = get_object_or_404(User, username=payload.username)
    if payload.role not in Role.values:
        raise services.AccountError(f"{payload.role!r} is not a role", "role")
    m = org_services.grant_role(member, unit, Role(payload.role), user=user_of(request))
    return Status(201, _roles([m])[0])


@router.delete("/memberships/{membership_id}", response={204: None})
def revoke(request: HttpRequest, membership_id: int, reason: str = "") -> Status[None]:
    membership = get_object_or_404(
        Membership.objects.select_related("unit", "user"), pk=membership_id
    )
    policy.require(user_of(request), Action.MANAGE_ACCOUNTS, membership.unit)
    org_services.revoke_role(membership, user=user_of(request), reason=reason)
    return Status(204, None)
