"""Values every page template needs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action


def product(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    nav: dict[str, bool] = {}
    if user.is_authenticated:
        nav = {
            "accounts": policy.can_any(user, Action.MANAGE_ACCOUNTS),
            "audit": policy.can_any(user, Action.VIEW_AUDIT),
            "tree_admin": policy.can_any(user, Action.EDIT_TREE),
            "business": policy.can_any(user, Action.VIEW_DATA),
            "records": policy.can_any(user, Action.IMPORT_RECORDS),
        }
        # The API's documents serve those who connect systems: the offices and the three
        # administrators; a reporter, approver or leader never needs them.
        nav["api"] = (
            nav["accounts"]
            or nav["audit"]
            or nav["tree_admin"]
            or (policy.can_any(user, Action.MANAGE_EVALUATION))
        )
    return {
        "product_name": settings.PRODUCT_NAME,
        "nav": nav,
        "demo_data": OrgUnit.objects.filter(is_demo=True).exists(),
    }
