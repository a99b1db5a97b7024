"""Sets the audit context for each request and records refused accesses (403).

Each request gets an id (the proxy's `X-Request-ID` when it sends a sane one), carried in the
context so that every log line of the request names it, and returned in `X-Request-ID`.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from duban.audit.context import acting_as
from duban.audit.services import record

log = logging.getLogger(__name__)
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(request: HttpRequest) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex[:12]


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user if request.user.is_authenticated else None
        source = "api" if request.path.startswith("/api/") else "web"
        rid = request_id(request)
        ip = request.META.get("REMOTE_ADDR")
        with acting_as(actor=user, ip=ip, source=source, request_id=rid):
            response = self.get_response(request)
            response.headers.setdefault("X-Request-ID", rid)
            if response.status_code == 403:
                log.warning(
                    "access refused", extra={"method": request.method, "path": request.path}
                )
                record(
                    "access.denied",
                    object_type="http",
                    object_repr=f"{request.method} {request.path}"[:200],
                    after={"method": request.method, "path": request.path},
                )
        return response
