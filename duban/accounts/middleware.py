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
            detour = _detour(request)
            if detour is not None:
                return detour
            if now - request.session.get(SEEN_AT, 0) >= 60:
                request.session[SEEN_AT] = now  # saved: the idle expiry starts again
                request.session.setdefault(SIGNED_IN_AT, signed_in)
        return self.get_response(request)


def _detour(request: HttpRequest) -> HttpResponse | None:
    """Where a signed-in person must go before any other page, in this order: the second step
    of signing in (he has a second factor and this session has not passed it), his own
    password (an administrator gave it), the second factor's set-up (his role requires one)."""
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from duban.accounts import second_factor

    user = request.user
    verified = second_factor.is_verified(request)
    if not verified and second_factor.is_on(user):  # type: ignore[arg-type]
        request.duban_detour = True  # type: ignore[attr-defined]  # base.html: no menu yet
        return None if _may_pass(request, "accounts:second_step") else redirect_to_step(request)
    if getattr(user, "must_change_password", False) and not _may_pass(request, "accounts:account"):
        messages.info(request, _("Choose your own password before you go on."))
        return redirect("accounts:account")
    if not verified and second_factor.requires(user):  # type: ignore[arg-type]
        request.duban_detour = True  # type: ignore[attr-defined]
        if not _may_pass(request, "accounts:second_factor"):
            return redirect("accounts:second_factor")  # the page says why
    return None


def redirect_to_step(request: HttpRequest) -> HttpResponse:
    """To the second step, keeping the page asked for (as the sign-in page keeps `next`)."""
    from django.shortcuts import redirect
    from django.urls import reverse
    from django.utils.http import urlencode

    target = reverse("accounts:second_step")
    if request.method == "GET" and request.path != "/":
        target += "?" + urlencode({"next": request.get_full_path()})
    return redirect(target)


def _may_pass(request: HttpRequest, page: str) -> bool:
    """What a person sent to `page` first may still open: it, signing out, the language."""
    from django.urls import reverse

    allowed = (reverse(page), reverse("accounts:logout"), reverse("accounts:language"))
    return request.path in allowed or request.path.startswith("/" + settings.STATIC_URL.lstrip("/"))
