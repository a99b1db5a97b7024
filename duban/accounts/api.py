"""Who am I, and account management for security administrators."""

from __future__ import annotations

from ninja import Router, Schema, Status

from duban.accounts import services
from duban.accounts.models import User
from duban.orgs import policy
from duban.orgs.models import Membership
from duban.orgs.policy import Action
from duban.web import AuthenticatedHttpRequest, actor, unit_or_403

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


def _member(request: AuthenticatedHttpRequest, account: User) -> MemberOut:
    """An account as a security administrator sees it: only its roles within his reach."""
    roles = policy.managed_memberships(actor(request)).filter(user=account)
    return MemberOut(
        id=account.pk,
        username=account.username,
        full_name=account.full_name,
        is_active=account.is_active,
        roles=_roles(list(roles.select_related("unit").order_by("unit__path", "role"))),
    )


@router.get("/me", response=MeOut)
def me(request: AuthenticatedHttpRequest) -> MeOut:
    user = actor(request)
    return MeOut(
        username=user.username,
        full_name=user.full_name,
        language=user.language,
        roles=_roles(list(user.memberships.select_related("unit"))),
    )


@router.post("/me/language", response=MeOut)
def set_language(request: AuthenticatedHttpRequest, payload: LanguageIn) -> MeOut:
    services.set_language(actor(request), payload.language)
    return me(request)


@router.get("/units/{code}/members", response=list[MemberOut])
def members(request: AuthenticatedHttpRequest, code: str) -> list[MemberOut]:
    """People holding a role at this unit (security administrators only)."""
    unit = unit_or_403(request, code, Action.MANAGE_ACCOUNTS)
    users = User.objects.filter(memberships__unit=unit).distinct().order_by("username")
    return [_member(request, u) for u in users]


@router.post("/units/{code}/members", response={201: MemberOut})
def create_member(
    request: AuthenticatedHttpRequest, code: str, payload: AccountIn
) -> Status[MemberOut]:
    unit = unit_or_403(request, code, Action.MANAGE_ACCOUNTS)
    account = services.create_account(
        user=actor(request),
        unit=unit,
        username=payload.username,
        full_name=payload.full_name,
        password=payload.password,
        role=payload.role,
        language=payload.language,
    )
    return Status(201, _member(request, account))


@router.post("/units/{code}/roles", response={201: RoleOut})
def grant(request: AuthenticatedHttpRequest, code: str, payload: GrantIn) -> Status[RoleOut]:
    """Give an account of your tree a role here; any other name: 400, the same for all."""
    unit = unit_or_403(request, code, Action.MANAGE_ACCOUNTS)
    m = services.grant(user=actor(request), unit=unit, username=payload.username, role=payload.role)
    return Status(201, _roles([m])[0])


@router.delete("/memberships/{membership_id}", response={204: None})
def revoke(request: AuthenticatedHttpRequest, membership_id: int, reason: str = "") -> Status[None]:
    """Withdraw a role held at a unit of your tree; any other: 404, the same as none."""
    services.revoke(user=actor(request), membership_id=membership_id, reason=reason)
    return Status(204, None)
