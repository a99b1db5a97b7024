"""Who sees which scheme and which units' results: questions put to ``orgs.policy`` only.

* Drafts (and what-if copies) are seen only by the issuing office (MANAGE_EVALUATION
  over the issuer).
* A published scheme and its scores are seen by whoever holds VIEW_DATA over the
  issuer (every row) or over some of its units (those rows only: a county sees
  its own results and rank, never a sibling's figures).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from duban.evaluation.models import Scheme, SchemeStatus
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from duban.accounts.models import User

    Someone = User | AnonymousUser

# Who may lodge an objection for a unit: its own office or leader (orgs.policy).
OBJECT: Action = Action.LODGE_OBJECTION


def can_manage(user: Any, scheme: Scheme) -> bool:
    return policy.can(user, Action.MANAGE_EVALUATION, scheme.issuer)


def require_manage(user: Any, scheme: Scheme) -> None:
    policy.require(user, Action.MANAGE_EVALUATION, scheme.issuer)


def sees_all(user: Any, scheme: Scheme) -> bool:
    if scheme.status != SchemeStatus.PUBLISHED:
        return can_manage(user, scheme)
    return policy.can(user, Action.VIEW_DATA, scheme.issuer)


def visible_members(user: Any, scheme: Scheme, codes: Iterable[str]) -> set[str]:
    """The unit codes among ``codes`` whose results this user may read."""
    codes = set(codes)
    if sees_all(user, scheme):
        return codes
    if scheme.status != SchemeStatus.PUBLISHED:
        return set()
    return set(
        policy.visible_units(user, Action.VIEW_DATA)
        .filter(code__in=codes)
        .values_list("code", flat=True)
    )


def member_codes(scheme: Scheme) -> list[str]:
    from duban.evaluation.models import GroupMember

    return list(
        GroupMember.objects.filter(group__scheme=scheme).values_list("unit__code", flat=True)
    )


def require_view(user: Any, scheme: Scheme) -> set[str]:
    """The member codes the user may read; 403 when there is none."""
    seen = visible_members(user, scheme, member_codes(scheme))
    if not seen:
        raise PermissionDenied(
            _("no results of %(code)s are visible to you") % {"code": scheme.code}
        )
    return seen


def require_unit(user: Any, scheme: Scheme, unit: OrgUnit) -> None:
    if unit.code not in visible_members(user, scheme, [unit.code]):
        raise PermissionDenied(
            _("results of %(code)s in %(code2)s are not visible to you")
            % {"code": unit.code, "code2": scheme.code}
        )


def visible_schemes(user: Any) -> list[Scheme]:
    """Schemes the user may open: drafts he manages, published ones reaching his units."""
    from django.db.models import Q

    managed = policy.visible_units(user, Action.MANAGE_EVALUATION)
    data = policy.visible_units(user, Action.VIEW_DATA)
    published = Q(status=SchemeStatus.PUBLISHED) & (
        Q(issuer__in=data) | Q(groups__members__unit__in=data)
    )
    schemes = (
        Scheme.objects.select_related("issuer", "based_on")
        .filter(Q(issuer__in=managed) | published)
        .distinct()
    )
    return sorted(schemes, key=lambda s: (-s.year, s.code))
