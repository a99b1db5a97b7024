"""The signed-in person of a request, typed as our User."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from duban.accounts.models import User


def user_of(request: HttpRequest) -> User:
    """For views behind login_required and API routes behind session auth: never anonymous."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied(_("sign in first"))
    return user
