"""Who reads and who writes documents: questions put to ``orgs.policy`` only.

* Drafts are seen and changed only by the issuing office (MANAGE_EVALUATION at the issuer).
* An issued document is read by everyone with a business role in the issuer's lineage
  (READ_BULLETINS: the issuer's subtree and the units above it) — it is addressed to them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from duban.bulletins.models import Bulletin, BulletinState, DocumentKind, Series
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action


def can_manage(user: Any, issuer: OrgUnit) -> bool:
    return policy.can(user, Action.MANAGE_EVALUATION, issuer)


def require_manage(user: Any, issuer: OrgUnit) -> None:
    policy.require(user, Action.MANAGE_EVALUATION, issuer)


def visible_bulletins(user: Any) -> QuerySet[Bulletin]:
    """Issued documents of the units in the user's lineage, and the drafts of his offices."""
    readable = policy.visible_units(user, Action.READ_BULLETINS)
    managed = policy.visible_units(user, Action.MANAGE_EVALUATION)
    return Bulletin.objects.filter(
        Q(state=BulletinState.ISSUED, issuer__in=readable) | Q(issuer__in=managed)
    )


def require_view(user: Any, bulletin: Bulletin) -> None:
    """Let the user read the document, or refuse (a draft is the office's own)."""
    if can_manage(user, bulletin.issuer):
        return
    if bulletin.is_issued and policy.can(user, Action.READ_BULLETINS, bulletin.issuer):
        return
    raise PermissionDenied(_("You may not read this document."))


def managed_series(user: Any) -> QuerySet[Series]:
    return Series.objects.filter(
        issuer__in=policy.visible_units(user, Action.MANAGE_EVALUATION)
    ).select_related("issuer", "scheme")


def dispatch_series_for(user: Any, unit: OrgUnit) -> Series | None:
    """The dispatch-brief series the user manages whose issuer is the unit or above it
    (the nearest first)."""
    lineage = [unit.path, *policy.ancestor_paths(unit.path)]
    found = (
        managed_series(user)
        .filter(kind=DocumentKind.DISPATCH, issuer__path__in=lineage)
        .order_by("-issuer__depth")
    )
    return found.first()


def issued_dates(unit: OrgUnit, start: date, end: date) -> list[tuple[date, str]]:
    """The unit's issued monthly bulletins in [start, end], dated and numbered (the
    cadence's count)."""
    return list(
        Bulletin.objects.filter(
            issuer=unit,
            kind=DocumentKind.MONTHLY,
            state=BulletinState.ISSUED,
            date_written__range=(start, end),
        )
        .order_by("date_written")
        .values_list("date_written", "number")
    )
