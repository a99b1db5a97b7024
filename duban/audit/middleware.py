"""Sets the audit context for each request and records refused accesses (403)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from duban.audit.context import acting_as
from duban.audit.services import record


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user if request.user.is_authenticated else None
        source = "api" if request.path.startswith("/api/") else "web"
        with acting_as(actor=user, ip=request.META.get("REMOTE_ADDR"), source=source):
            response = self.get_response(request)
            if response.status_code == 403:
                record(
                    "access.denied",
                    object_type="http",
                    object_repr=f"{request.method} {request.path}"[:200],
                    after={"method": request.method, "path": request.path},
                )
        return response
