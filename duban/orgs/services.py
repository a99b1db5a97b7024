"""Changes to the organisation tree and to who holds which role where."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr

from duban.audit.context import with_reason
from duban.audit.services import record
from duban.errors import DubanError, Problem, clean_problems
from duban.orgs import policy
from duban.orgs.models import Kind, Level, Membership, OrgUnit, Role, UnitMove
from duban.orgs.policy import Action

if TYPE_CHECKING:
    from duban.accounts.models import User
    from duban.orgs.policy import Actor


class OrgError(DubanError):
    """A tree or membership change that cannot be made."""


UNIT_FIELDS = ("code", "name_zh", "name_en", "level", "kind", "sort_order", "is_active", "line")


def _validate(unit: OrgUnit, exclude: list[str] | None = None) -> None:
    problems = clean_problems(unit, exclude=exclude)
    if problems:
        raise OrgError(problems)


def check_placement(level: str, parent: OrgUnit | None) -> str | None:
    """A unit sits at its parent's level or below (a county never above a city)."""
    if parent is not None and Level.rank(level) < Level.rank(parent.level):
        return f"level {level} cannot sit below a {parent.level} unit ({parent.code})"
    return None


@transaction.atomic
def create_unit(*, user: Actor, parent: OrgUnit | None, **fields: Any) -> OrgUnit:
    """Add a unit under `parent`; only a system administrator of the parent may."""
    if parent is None:
        if not (policy.is_system(user) or getattr(user, "is_superuser", False)):
            raise OrgError("only the installation's superuser creates a root unit", "parent")
    else:
        policy.require(user, Action.EDIT_TREE, parent)
    unit = OrgUnit(parent=parent, **{k: v for k, v in fields.items() if k in UNIT_FIELDS})
    _validate(unit, exclude=["parent"])
    problem = check_placement(unit.level, parent)
    if problem:
        raise OrgError(problem, "level")
    unit.save()
    return unit


@transaction.atomic
def update_unit(unit: OrgUnit, *, user: Actor, **fields: Any) -> OrgUnit:
    """Rename or reclassify a unit. Its code is its identity in files and paths: not changed here."""
    policy.require(user, Action.EDIT_TREE, unit)
    unknown = sorted(set(fields) - set(UNIT_FIELDS) - {"code"})
    if unknown:
        raise OrgError([Problem(f, "unknown field") for f in unknown])
    if "code" in fields and fields["code"] != unit.code:
        raise OrgError("a unit's code cannot change", "code")
    locked = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate(locked, exclude=["parent"])
    problem = check_placement(locked.level, locked.parent)
    if problem:
        raise OrgError(problem, "level")
    below = locked.children.all()
    for child in below:
        if Level.rank(child.level) < Level.rank(locked.level):
            raise OrgError(
                f"child {child.code} is at level {child.level}, above {locked.level}", "level"
            )
    locked.save()
    unit.refresh_from_db()
    return locked


@transaction.atomic
def move_unit(unit: OrgUnit, new_parent: OrgUnit, *, user: Actor, reason: str) -> UnitMove:
    """Put a unit and its subtree under another parent.

    The unit keeps its id, so its figures, memberships and audit history stay
    with it; the move itself is kept as a `UnitMove`.
    """
    if not reason.strip():
        raise OrgError("a move needs a reason", "reason")
    policy.require(user, Action.EDIT_TREE, unit)
    policy.require(user, Action.EDIT_TREE, new_parent)
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    if new_parent.is_within(unit):
        raise OrgError(
            f"{new_parent.code} lies inside {unit.code}: the move would make a cycle", "parent"
        )
    problem = check_placement(unit.level, new_parent)
    if problem:
        raise OrgError(problem, "parent")
    old_parent, old_path = unit.parent, unit.path
    with with_reason(reason):
        unit.parent = new_parent
        unit.save()
        new_path = unit.path
        descendants = OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk)
        count = descendants.update(
            path=Concat(Value(new_path), Substr("path", Length(Value(old_path)) + 1)),
            depth=F("depth") + (unit.path.count("/") - old_path.count("/")),
        )
        if count:
            record(
                "orgs.orgunit.subtree_moved",
                obj=unit,
                before={"path": old_path},
                after={"path": new_path, "descendants": count},
            )
        return UnitMove.objects.create(
            unit=unit,
            from_parent=old_parent,
            to_parent=new_parent,
            old_path=old_path,
            new_path=new_path,
            moved_by=policy.person(user),
            reason=reason,
        )


@transaction.atomic
def grant_role(member: User, unit: OrgUnit, role: Role, *, user: Actor) -> Membership:
    """Give `member` a role at `unit`; a security administrator above the unit decides."""
    policy.require(user, Action.MANAGE_ACCOUNTS, unit)
    if user.pk is not None and user.pk == member.pk:
        raise OrgError("nobody grants roles to himself", "user")
    held = [Role(r) for r in Membership.objects.filter(user=member).values_list("role", flat=True)]
    conflicts = policy.conflicting_roles(held, role)
    if conflicts:
        names = ", ".join(str(Role(c).label) for c in conflicts)
        raise OrgError(
            f"separation of duties: {Role(role).label} cannot be held with {names}", "role"
        )
    membership, created = Membership.objects.get_or_create(user=member, unit=unit, role=role)
    if not created:
        raise OrgError(f"{member} already holds this role at {unit.code}", "role")
    policy.forget_grants(member)
    return membership


@transaction.atomic
def revoke_role(membership: Membership, *, user: Actor, reason: str = "") -> None:
    policy.require(user, Action.MANAGE_ACCOUNTS, membership.unit)
    with with_reason(reason):
        membership.delete()
    policy.forget_grants(membership.user)


def kinds() -> list[str]:
    return [k.value for k in Kind]
