"""The one place that decides who may do what where.

Every page, API route and command asks `can()` / `require()` or filters a list
with `visible_units()`. A role held at a unit reaches that unit and its whole
subtree, never a sibling or a parent; the exceptions are stated per action
below. The three administrators (三员分立) each do only their own work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from duban.orgs.models import Kind, Membership, OrgUnit, OrgUnitQuerySet, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.accounts.models import User

log = logging.getLogger(__name__)


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
    READ_BULLETINS = "read_bulletins"  # read the issued documents (通报) of a unit
    IMPORT_RECORDS = "import_records"  # bring business records (立案, 抓获 …) of units below


class Reach(StrEnum):
    SUBTREE = "subtree"  # the unit and everything below it
    SELF = "self"  # the unit itself only
    BELOW = "below"  # strictly below the unit
    LINEAGE = "lineage"  # the unit's subtree and the units above it (documents sent down)


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    reach: Reach = Reach.SUBTREE


BUSINESS_ROLES = frozenset({Role.OFFICE, Role.REPORTER, Role.APPROVER, Role.LEADER})
# The actions a division's roles extend along its line (条线): reading, nothing more. Entering,
# approving and managing stay with the territorial chain.
LINE_ACTIONS = frozenset({"view_data"})

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
    # An issued bulletin is addressed to every unit below its issuer: a county reads the
    # province's bulletin (the units above it), and the province reads a county's.
    Action.READ_BULLETINS: Rule(BUSINESS_ROLES, Reach.LINEAGE),
    # Business records feed the record indicators of every unit below: the office that runs
    # the unit's reporting brings them, as it manages the unit's evaluation; the system
    # administrator does not (三员分立: he runs the system, not its business data), and a
    # feed from the case system runs from the shell as the system.
    Action.IMPORT_RECORDS: Rule(frozenset({Role.OFFICE})),
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
        raise PermissionDenied(_("the system acts only from the shell, never inside a request"))
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
    for cache in ("_duban_grants", "_duban_lines"):
        if hasattr(user, cache):
            delattr(user, cache)


@dataclass(frozen=True)
class LineReach:
    """A role held at a division heading a line: for that line's data, it reaches every
    territorial unit whose path starts with `territory` (the division's parent's path)."""

    role: Role
    line: str
    territory: str


def line_reaches(user: Actor | AnonymousUser, action: Action) -> list[LineReach]:
    """The user's line reaches that count for `action` (only LINE_ACTIONS have any)."""
    if action not in LINE_ACTIONS or isinstance(user, System) or not user.is_authenticated:
        return []
    if not user.is_active:
        return []
    cached: list[LineReach] | None = getattr(user, "_duban_lines", None)
    if cached is None:
        cached = [
            LineReach(Role(role), line, parent_path)
            for role, line, parent_path in Membership.objects.active()
            .filter(user=user, unit__kind=Kind.DIVISION, unit__parent__isnull=False)
            .exclude(unit__line="")
            .values_list("role", "unit__line", "unit__parent__path")
        ]
        user._duban_lines = cached  # type: ignore[union-attr,attr-defined]
    roles = RULES[action].roles
    return [r for r in cached if r.role in roles]


# One rule table, read two ways: `_reaches` for one unit, `_reach_q` for a list. Both say the
# same thing about one grant; `can` and `visible_units` combine grants the same way (any).


def _reaches(reach: Reach, grant_path: str, unit_path: str) -> bool:
    if reach is Reach.SELF:
        return unit_path == grant_path
    if reach is Reach.BELOW:
        return unit_path != grant_path and unit_path.startswith(grant_path)
    if reach is Reach.LINEAGE:
        return unit_path.startswith(grant_path) or grant_path.startswith(unit_path)
    return unit_path.startswith(grant_path)


def ancestor_paths(path: str) -> list[str]:
    """The paths of the units above the one at `path` (/SX/SX-XA/ → /SX/)."""
    codes = [c for c in path.split("/") if c]
    return ["/" + "/".join(codes[:n]) + "/" for n in range(1, len(codes))]


def _reach_q(reach: Reach, grant_path: str, field: str = "path") -> Q:
    if reach is Reach.SELF:
        return Q(**{field: grant_path})
    if reach is Reach.BELOW:
        return Q(**{f"{field}__startswith": grant_path}) & ~Q(**{field: grant_path})
    if reach is Reach.LINEAGE:
        return Q(**{f"{field}__startswith": grant_path}) | Q(
            **{f"{field}__in": ancestor_paths(grant_path)}
        )
    return Q(**{f"{field}__startswith": grant_path})


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


def can(user: Actor | AnonymousUser, action: Action, unit: OrgUnit, *, line: str = "") -> bool:
    """Whether the user may do `action` at `unit`; for data of a `line` (an indicator's,
    a task's), a division's roles also reach the territorial units under its parent."""
    if _is_system(user):
        return True
    reach = RULES[action].reach
    if any(_reaches(reach, path, unit.path) for path in _grant_paths(user, action)):
        return True
    return (
        bool(line)
        and unit.kind == Kind.TERRITORIAL
        and any(
            r.line == line and unit.path.startswith(r.territory) for r in line_reaches(user, action)
        )
    )


def allowed_units(
    user: Actor | AnonymousUser, action: Action, units: Iterable[OrgUnit]
) -> set[int]:
    """The ids of those `units` at which `can(user, action, unit)` holds (no line): what
    `visible_units(...).filter(pk__in=...)` answers, without the query. The grants are read
    once and each unit judged by its own path and its ancestors' (set look-ups), so a file
    naming 500 units, by an account holding 500 grants, costs no 500 × 500 comparisons."""
    if _is_system(user):
        return {u.pk for u in units}
    reach = RULES[action].reach
    paths = set(_grant_paths(user, action))
    allowed: set[int] = set()
    for unit in units:
        own = unit.path in paths
        above = any(a in paths for a in ancestor_paths(unit.path))
        if reach is Reach.SELF:
            ok = own
        elif reach is Reach.BELOW:
            ok = above
        elif reach is Reach.LINEAGE:
            ok = own or above or any(p.startswith(unit.path) for p in paths)
        else:
            ok = own or above
        if ok:
            allowed.add(unit.pk)
    return allowed


def require(user: Actor | AnonymousUser, action: Action, unit: OrgUnit, *, line: str = "") -> None:
    """Raise PermissionDenied (403, recorded by the audit middleware) unless allowed."""
    if not can(user, action, unit, line=line):
        log.warning(
            "policy refused",
            extra={"action": action.value, "unit": unit.code, "line": line or "-"},
        )
        raise PermissionDenied(
            _("%(action)s not allowed at %(code)s") % {"action": action.value, "code": unit.code}
        )


def roots(user: Actor | AnonymousUser, action: Action = Action.VIEW_UNIT) -> list[str]:
    """The paths at the top of what the user may reach for an action (no path inside another)."""
    if _is_system(user):
        return sorted(OrgUnit.objects.filter(parent=None).values_list("path", flat=True))
    return _grant_paths(user, action)


def visible_units(
    user: Actor | AnonymousUser, action: Action = Action.VIEW_UNIT, *, line: str = ""
) -> OrgUnitQuerySet:
    """Every unit the user may act on for `action` (for data of `line`, when given), as one
    queryset: the units `can` allows, from the same rules, grant by grant."""
    qs = OrgUnit.objects.all()
    if _is_system(user):
        return qs
    where = _units_q(user, action, "")
    if line:
        where |= _line_q(user, action, "", lambda r: Q() if r.line == line else None)
    return qs.filter(where) if where else qs.none()


def _units_q(user: Actor | AnonymousUser, action: Action, prefix: str) -> Q:
    """The units the user's grants reach for `action`, as a filter on `<prefix>path`."""
    reach = RULES[action].reach
    where = Q()
    for path in _grant_paths(user, action):
        where |= _reach_q(reach, path, f"{prefix}path")
    return where


def _line_q(user: Actor | AnonymousUser, action: Action, prefix: str, extra: Any) -> Q:
    """The territorial units the user's line reaches take in, each with `extra(reach)` (the
    condition on the data's line; None leaves that reach out), as a filter on `<prefix>…`."""
    where = Q()
    for r in line_reaches(user, action):
        condition = extra(r)
        if condition is None:
            continue
        where |= (
            Q(**{f"{prefix}kind": Kind.TERRITORIAL, f"{prefix}path__startswith": r.territory})
            & condition
        )
    return where


def data_filter(
    user: Actor | AnonymousUser,
    action: Action = Action.VIEW_DATA,
    *,
    unit: str = "unit",
    line: str = "indicator__line",
) -> Q:
    """Rows of data (figures, scores, tasks) the user may read, as one filter: those of the
    units he reaches, and — for a division's roles — those of its line in the territorial
    units under its parent. `unit` and `line` name the row's unit and line lookups."""
    if _is_system(user):
        return Q()
    where = _units_q(user, action, f"{unit}__")
    where |= _line_q(user, action, f"{unit}__", lambda r: Q(**{line: r.line}))
    return where if where else Q(pk__in=[])


def lines_at(
    user: Actor | AnonymousUser, unit: OrgUnit, action: Action = Action.VIEW_DATA
) -> frozenset[str] | None:
    """What of a unit's data the user may read: None for all of it (the unit is in his
    reach), else the lines his division roles follow there (maybe none)."""
    if can(user, action, unit):
        return None
    if unit.kind != Kind.TERRITORIAL:
        return frozenset()
    return frozenset(
        r.line for r in line_reaches(user, action) if unit.path.startswith(r.territory)
    )


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
    reach = visible_units(user, Action.MANAGE_ACCOUNTS)
    held = Membership.objects.filter(user=OuterRef("pk"))
    return (
        get_user_model().objects.filter(Exists(held)).exclude(Exists(held.exclude(unit__in=reach)))
    )


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
