"""The one place that decides who may do what where.

Every page, API route and command asks `can()` / `require()` or filters a list
with `visible_units()`. A role held at a unit reaches that unit and its whole
subtree, never a sibling or a parent; the exceptions are stated per action
below. The three administrators (三员分立) each do only their own work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet

from duban.orgs.models import Membership, OrgUnit, OrgUnitQuerySet, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.accounts.models import User


class Action(StrEnum):
    VIEW_UNIT = "view_unit"  # see the unit in the tree and its home page
    EDIT_TREE = "edit_tree"  # create, rename, move, import units below one's own
    MANAGE_ACCOUNTS = "manage_accounts"  # create users, grant and revoke roles
    VIEW_AUDIT = "view_audit"  # read the audit trail
    VIEW_DATA = "view_data"  # read figures, tasks, scores
    ENTER_DATA = "enter_data"  # enter and submit the unit's own figures
    APPROVE_DATA = "approve_data"  # check, return and approve a unit below
    MANAGE_EVALUATION = "manage_evaluation"  # schemes, periods, locks, bulletins
    LODGE_OBJECTION = "lodge_objection"  # object to the unit's own published results (公示)


class Reach(StrEnum):
    SUBTREE = "subtree"  # the unit and everything below it
    SELF = "self"  # the unit itself only
    BELOW = "below"  # strictly below the unit


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    reach: Reach = Reach.SUBTREE


BUSINESS_ROLES = frozenset({Role.OFFICE, Role.REPORTER, Role.APPROVER, Role.LEADER})

RULES: dict[Action, Rule] = {
    Action.VIEW_UNIT: Rule(frozenset(Role)),
    Action.EDIT_TREE: Rule(frozenset({Role.SYSTEM_ADMIN})),
    Action.MANAGE_ACCOUNTS: Rule(frozenset({Role.SECURITY_ADMIN})),
    Action.VIEW_AUDIT: Rule(frozenset({Role.AUDIT_ADMIN})),
    Action.VIEW_DATA: Rule(BUSINESS_ROLES),
    Action.ENTER_DATA: Rule(frozenset({Role.REPORTER}), Reach.SELF),
    Action.APPROVE_DATA: Rule(frozenset({Role.APPROVER}), Reach.BELOW),
    Action.MANAGE_EVALUATION: Rule(frozenset({Role.OFFICE})),
    Action.LODGE_OBJECTION: Rule(frozenset({Role.OFFICE, Role.LEADER}), Reach.SELF),
}


class System:
    """The one actor that is not a person: commands, the daily pass, file feeds run from the
    shell and the demo act as it. The policy allows it everything, the audit trail names it
    ("system", with the command as the entry's source), and no request can act as it:
    the policy refuses it while a web or API request is being served (`_is_system`)."""

    is_authenticated = True
    is_active = True
    pk = None

    def get_username(self) -> str:
        return "system"

    def __str__(self) -> str:
        return "system"

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = System()

if TYPE_CHECKING:
    # Who acts: a person, or the system (commands, the daily pass, the demo). Never None.
    Actor: TypeAlias = User | System
REQUEST_SOURCES = frozenset({"web", "api"})  # what the audit middleware sets for a request


def _is_system(actor: object) -> bool:
    """Whether `actor` is the system, refusing it inside a request: a view that passed it
    would skip the policy for whoever is signed in."""
    if actor is not SYSTEM:
        return False
    from duban.audit.context import current

    if current().source in REQUEST_SOURCES:
        raise PermissionDenied("the system acts only from the shell, never inside a request")
    return True


def is_system(actor: object) -> bool:
    """Whether the actor is the system (refused inside a request, as everywhere)."""
    return _is_system(actor)


def person(actor: Actor) -> User | None:
    """The account behind an actor, for `…_by` columns: None for the system."""
    return None if actor is SYSTEM else actor  # type: ignore[return-value]


def grants(user: Actor | AnonymousUser) -> list[tuple[Role, str]]:
    """(role, unit path) pairs the user holds, read once per request and cached on the user."""
    if user is None:
        raise TypeError("no actor: pass the signed-in user, or policy.SYSTEM from the shell")
    if isinstance(user, System) or not user.is_authenticated or not user.is_active:
        return []
    cached: list[tuple[Role, str]] | None = getattr(user, "_duban_grants", None)
    if cached is None:
        cached = [
            (Role(role), path)
            for role, path in Membership.objects.active()
            .filter(user=user)
            .values_list("role", "unit__path")
        ]
        user._duban_grants = cached  # type: ignore[union-attr,attr-defined]
    return cached


def forget_grants(user: Any) -> None:
    if hasattr(user, "_duban_grants"):
        del user._duban_grants


# One rule table, read two ways: `_reaches` for one unit, `_reach_q` for a list. Both say the
# same thing about one grant; `can` and `visible_units` combine grants the same way (any).


def _reaches(reach: Reach, grant_path: str, unit_path: str) -> bool:
    if reach is Reach.SELF:
        return unit_path == grant_path
    if reach is Reach.BELOW:
        return unit_path != grant_path and unit_path.startswith(grant_path)
    return unit_path.startswith(grant_path)


def _reach_q(reach: Reach, grant_path: str) -> Q:
    if reach is Reach.SELF:
        return Q(path=grant_path)
    if reach is Reach.BELOW:
        return Q(path__startswith=grant_path) & ~Q(path=grant_path)
    return Q(path__startswith=grant_path)


def _grant_paths(user: Actor | AnonymousUser, action: Action) -> list[str]:
    """The unit paths of the user's grants that count for `action`, without a path whose
    reach another one's holds already (a subtree or below inside another)."""
    rule = RULES[action]
    paths = sorted({path for role, path in grants(user) if role in rule.roles})
    if rule.reach is Reach.SELF:
        return paths
    top: list[str] = []
    for path in paths:
        if not any(path.startswith(t) for t in top):
            top.append(path)
    return top


def can(user: Actor | AnonymousUser, action: Action, unit: OrgUnit) -> bool:
    if _is_system(user):
        return True
    reach = RULES[action].reach
    return any(_reaches(reach, path, unit.path) for path in _grant_paths(user, action))


def require(user: Actor | AnonymousUser, action: Action, unit: OrgUnit) -> None:
    """Raise PermissionDenied (403, recorded by the audit middleware) unless allowed."""
    if not can(user, action, unit):
        raise PermissionDenied(f"{action.value} not allowed at {unit.code}")


def roots(user: Actor | AnonymousUser, action: Action = Action.VIEW_UNIT) -> list[str]:
    """The paths at the top of what the user may reach for an action (no path inside another)."""
    if _is_system(user):
        return sorted(OrgUnit.objects.filter(parent=None).values_list("path", flat=True))
    return _grant_paths(user, action)


def visible_units(
    user: Actor | AnonymousUser, action: Action = Action.VIEW_UNIT
) -> OrgUnitQuerySet:
    """Every unit the user may act on for `action`, as one queryset: the units `can` allows,
    from the same rule, grant by grant."""
    qs = OrgUnit.objects.all()
    if _is_system(user):
        return qs
    reach = RULES[action].reach
    paths = _grant_paths(user, action)
    if not paths:
        return qs.none()
    where = Q()
    for path in paths:
        where |= _reach_q(reach, path)
    return qs.filter(where)


def home_units(user: Actor | AnonymousUser) -> OrgUnitQuerySet:
    """The units where the user holds a role: where his home page starts."""
    return OrgUnit.objects.filter(path__in={path for _, path in grants(user)})


@dataclass(frozen=True)
class FigureScope:
    """Whose figures a reader sees in a document laid before more than one unit (a meeting's
    pack), where figures are read, not checked.

    `units`: every unit he may VIEW_DATA. `entering`: the units where he holds a business
    role himself — the units that entered the figures he may read unapproved. Any other
    unit's figures he reads only once approved or locked: a city leader is outside a county
    whose draft is still moving, that county's reporter is inside. (An approver checks a
    submitted form in reporting, on the form itself; a pack is not where that happens.)
    """

    units: OrgUnitQuerySet
    entering: OrgUnitQuerySet


def figure_scope(user: Actor | AnonymousUser) -> FigureScope:
    """The user's `FigureScope`: his VIEW_DATA reach, and the units of his own business roles."""
    readers = RULES[Action.VIEW_DATA].roles
    return FigureScope(
        units=visible_units(user, Action.VIEW_DATA),
        entering=OrgUnit.objects.filter(
            path__in={path for role, path in grants(user) if role in readers}
        ),
    )


def managed_accounts(user: Actor | AnonymousUser) -> QuerySet[User]:
    """The accounts a security administrator manages: those whose home units — every unit where
    the account holds a role, as `home_units` says, but counting a switched-off account's and
    an inactive unit's roles too, so an account does not change hands while it is off — all lie
    within his MANAGE_ACCOUNTS reach.

    An account with a role beyond his reach belongs (also) to another tree, and one with no
    role at all to none: neither is his, so he cannot take over another organisation's
    account by granting it a role, nor learn through his answers that it exists. Such
    accounts are handled from the shell (`duban grant`), which acts as the system.
    """
    from duban.accounts.models import User

    reach = visible_units(user, Action.MANAGE_ACCOUNTS)
    held = Membership.objects.filter(user=OuterRef("pk"))
    return User.objects.filter(Exists(held)).exclude(Exists(held.exclude(unit__in=reach)))


def manages_account(user: Actor | AnonymousUser, account: User) -> bool:
    return managed_accounts(user).filter(pk=account.pk).exists()


def managed_memberships(user: Actor | AnonymousUser) -> QuerySet[Membership]:
    """The roles held at units within his MANAGE_ACCOUNTS reach, whoever holds them: what his
    member lists show of each person, and what he may withdraw (a role at his own unit is his
    to take back even from an account of another tree; he sees nothing else of that account)."""
    return Membership.objects.filter(unit__in=visible_units(user, Action.MANAGE_ACCOUNTS))


def can_any(user: Actor | AnonymousUser, action: Action) -> bool:
    if _is_system(user):
        return True
    return any(role in RULES[action].roles for role, _ in grants(user))


def conflicting_roles(existing: Iterable[Role], new: Role) -> list[Role]:
    """三员分立: an administrator role excludes every other role for the same person."""
    from duban.orgs.models import ADMIN_ROLES

    held = set(existing) - {new}
    if new in ADMIN_ROLES:
        return sorted(held)
    return sorted(held & ADMIN_ROLES)
