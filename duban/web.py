"""What every app's pages and API routes share: the signed-in request and its actor.

`login_required` pages and `django_auth` routes only ever see a signed-in person, so their
request is an `AuthenticatedHttpRequest` (healthchecks' pattern) and `actor(request)` is the
person the policy and the services are asked about. The system actor never comes from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

if TYPE_CHECKING:
    from duban.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def actor(request: HttpRequest) -> User:
    """The signed-in user of a route that requires one (login_required / django_auth)."""
    return cast("User", request.user)
