"""The JSON API under /api/: one NinjaAPI, one router per app, errors as 4xx JSON.

Every JSON body is read by one parser (`duban.core.json_input.load_json`): a control
character in any string, or nesting past any real document, is refused before a route
runs, naming its JSON path.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.parser import Parser
from ninja.security import django_auth

from duban.core.json_input import load_json
from duban.errors import DubanError


class CheckedParser(Parser):
    """Ninja's JSON parser, with the project's checks; what it refuses reaches the client
    as the DubanError it is (see `_http_error`), not as "Cannot parse request body"."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        doc: dict[str, Any] = load_json(request.body)
        return doc


api = NinjaAPI(
    title="Duban API",
    version="1",
    description="Key-work supervision and performance evaluation. Every route answers "
    "under the same access policy as the pages; errors are JSON with `detail` and `errors`.",
    auth=django_auth,
    urls_namespace="api",
    parser=CheckedParser(),
    # The document maps every route: only for people signed in (issue 15).
    docs_decorator=login_required,
)


@api.exception_handler(DubanError)
def _duban_error(request: HttpRequest, exc: DubanError) -> HttpResponse:
    return api.create_response(request, exc.as_json(), status=exc.status)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja wraps whatever the parser raises in a bare 400; ours says what and where."""
    if isinstance(exc.__cause__, DubanError):
        return _duban_error(request, exc.__cause__)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc) or "permission denied", "errors": []}, status=403
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc) or "not found", "errors": []}, status=404
    )


def _register() -> None:
    from duban.accounts.api import router as accounts_router
    from duban.audit.api import router as audit_router
    from duban.evaluation.api import router as evaluation_router
    from duban.indicators.api import router as indicators_router
    from duban.meetings.api import router as meetings_router
    from duban.orgs.api import router as orgs_router
    from duban.periods_api import router as periods_router
    from duban.reporting.api import router as reporting_router
    from duban.tasks.api import router as tasks_router

    api.add_router("/accounts/", accounts_router)
    api.add_router("/orgs/", orgs_router)
    api.add_router("/audit/", audit_router)
    api.add_router("/periods/", periods_router)
    api.add_router("/indicators/", indicators_router)
    api.add_router("/reporting/", reporting_router)
    api.add_router("/evaluation/", evaluation_router)
    api.add_router("/tasks/", tasks_router)
    api.add_router("/meetings/", meetings_router)


_register()
