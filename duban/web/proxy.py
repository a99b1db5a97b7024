"""The client's address behind a trusted proxy.

Behind nginx every request reaches Duban from the proxy's own address, so the sign-in lockout
per address (django-axes) would lock everyone at once and the audit trail would record nginx.
nginx sets `X-Real-IP` to the address it saw, replacing whatever a client sent; Duban believes
that header only from the proxies named in DUBAN_TRUSTED_PROXIES, and from no one else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def client_address(meta: dict[str, str], trusted: list[str]) -> str:
    """REMOTE_ADDR, or the proxy's X-Real-IP when REMOTE_ADDR is a trusted proxy and the
    header holds one well-formed address (a malformed header is ignored, never believed)."""
    peer = meta.get("REMOTE_ADDR", "")
    real = meta.get("HTTP_X_REAL_IP", "").strip()
    if not real or peer not in trusted:
        return peer
    try:
        return str(ipaddress.ip_address(real))
    except ValueError:
        return peer


class ClientAddressMiddleware:
    """First in MIDDLEWARE: every later reader of REMOTE_ADDR sees the client."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trusted = settings.DUBAN_TRUSTED_PROXIES
        if trusted:
            request.META["REMOTE_ADDR"] = client_address(request.META, trusted)
        return self.get_response(request)
