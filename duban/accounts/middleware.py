"""Chooses the language of each request: the account's choice, else the cookie, else Chinese.

Django's LocaleMiddleware would follow the browser's Accept-Language; Duban is
Chinese first, so an English-language browser still gets Chinese until the
person switches (and the switch is kept on the account).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


def request_language(request: HttpRequest) -> str:
    offered = dict(settings.LANGUAGES)
    user = request.user
    chosen = getattr(user, "language", "") if user.is_authenticated else ""
    if chosen in offered:
        return chosen
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if cookie in offered:
        return cookie
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request_language(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        response.headers.setdefault("Vary", "Cookie")
        return response


class NoStoreMiddleware:
    """Pages and API answers for a signed-in person are his units' data: no browser or proxy
    may keep a copy (`Cache-Control: no-store`, ASVS 8.2.1). Static files never reach this
    (WhiteNoise answers them first) and keep their long cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated or request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response


SIGNED_IN_AT = "duban_signed_in_at"
SEEN_AT = "duban_seen_at"


class SessionExpiryMiddleware:
    """Sessions end after `DUBAN_SESSION_IDLE_MINUTES` without a request (30 by default) and,
    however busy, `DUBAN_SESSION_HOURS` after sign-in (8) — on the server, not by the cookie.

    The idle clock is Django's own session expiry, pushed forward by saving the session at
    most once a minute (not a write per request); the absolute one is the sign-in time kept
    in the session (set by `duban.accounts.sessions` at sign-in)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.contrib import auth, messages
        from django.shortcuts import redirect
        from django.utils.translation import gettext as _

        if request.user.is_authenticated:
            now = int(time.time())
            signed_in = request.session.get(SIGNED_IN_AT, now)
            if now - signed_in > settings.DUBAN_SESSION_HOURS * 3600:
                auth.logout(request)
                messages.info(
                    request, _("You were signed in for a whole working day: sign in again.")
                )
                return redirect(settings.LOGIN_URL)
            if getattr(request.user, "must_change_password", False) and not _may_pass(request):
                messages.info(request, _("Choose your own password before you go on."))
                return redirect("accounts:account")
            if now - request.session.get(SEEN_AT, 0) >= 60:
                request.session[SEEN_AT] = now  # saved: the idle expiry starts again
                request.session.setdefault(SIGNED_IN_AT, signed_in)
        return self.get_response(request)


def _may_pass(request: HttpRequest) -> bool:
    """What a person who must first change his password may still open."""
    from django.urls import reverse

    allowed = (
        reverse("accounts:account"),
        reverse("accounts:logout"),
        reverse("accounts:language"),
    )
    return request.path in allowed or request.path.startswith("/" + settings.STATIC_URL.lstrip("/"))
