"""The signed-in request, its actor, the unit it names and the file it uploads.

`login_required` pages and `django_auth` routes only ever see a signed-in person, so their
request is an `AuthenticatedHttpRequest` (healthchecks' pattern) and `actor(request)` is the
person the policy and the services are asked about. The system actor never comes from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from duban.errors import DubanError
from duban.orgs import policy
from duban.orgs.models import OrgUnit

if TYPE_CHECKING:
    from duban.accounts.models import User
    from duban.orgs.policy import Action


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def actor(request: HttpRequest) -> User:
    """The signed-in user of a route that requires one (login_required / django_auth)."""
    if not request.user.is_authenticated:
        raise PermissionDenied("sign in first")
    return cast("User", request.user)


def unit_or_403(request: HttpRequest, code: str, action: Action) -> OrgUnit:
    """The unit named in the URL or body (404 if none), once the policy allows `action` there."""
    unit = get_object_or_404(OrgUnit.objects.select_related("parent"), code=code)
    policy.require(actor(request), action, unit)
    return unit


def read_upload(file: UploadedFile | None, *, limit: int | None = None) -> bytes:
    """Read an uploaded file, refusing a missing one or one larger than `limit` (by default
    the import limit) before reading it; the problem names the field `file`."""
    if file is None:
        raise DubanError(_("choose a file"), "file")
    limit = settings.DUBAN_IMPORT_MAX_BYTES if limit is None else limit
    if file.size is not None and file.size > limit:
        raise DubanError(
            _("the file has %(size)d bytes; the limit is %(limit)d")
            % {"size": file.size, "limit": limit},
            "file",
        )
    return file.read()
