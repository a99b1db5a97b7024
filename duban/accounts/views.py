"""Signing in and out, the language switch, and account pages for security administrators."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from duban.accounts import lockout, second_factor, services, sessions
from duban.accounts.forms import AccountForm, CodeForm, GrantForm
from duban.errors import DubanError
from duban.orgs import policy
from duban.orgs.models import Membership, OrgUnit, Role
from duban.orgs.policy import Action
from duban.web import AuthenticatedHttpRequest, actor, add_problems, unit_or_403


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    """Self-service password change under the policy (AUTH_PASSWORD_VALIDATORS); the other
    sessions of the account end with the old password (Django's session hash)."""

    template_name = "accounts/account.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user = self.request.user
        return super().get_context_data(
            second_factor_on=second_factor.is_on(user),  # type: ignore[arg-type]
            second_factor_required=second_factor.requires(user),  # type: ignore[arg-type]
            recovery_codes_left=second_factor.recovery_codes_left(user),  # type: ignore[arg-type]
            **kwargs,
        )

    def form_valid(self, form: Any) -> HttpResponse:
        form.user.must_change_password = False  # saved with the new password, audited
        return super().form_valid(form)

    def get_success_url(self) -> str:
        messages.success(self.request, _("Password changed. Your other sessions have ended."))
        return str(reverse("accounts:account"))


@login_required
@require_POST
def sign_out_elsewhere(request: AuthenticatedHttpRequest) -> HttpResponse:
    sessions.end_other_sessions(request, actor(request))
    messages.success(request, _("Signed out on every other computer and phone."))
    return redirect("accounts:account")


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch language: kept on the account when signed in, in a cookie otherwise."""
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        return redirect("home")
    if request.user.is_authenticated:
        services.set_language(actor(request), code)
        target = request.POST.get("next", "/")
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
            target = "/"
        response: HttpResponse = HttpResponseRedirect(target)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, samesite="Lax")
        return response
    return django_set_language(request)


@login_required
def members_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    units = OrgUnit.objects.filter(path__in=policy.roots(actor(request), Action.MANAGE_ACCOUNTS))
    if not units:
        raise policy.PermissionDenied(_("account management needs a security administrator"))
    return redirect("accounts:members", code=units[0].code)


@login_required
@require_http_methods(["GET", "POST"])
def members(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    unit = unit_or_403(request, code, Action.MANAGE_ACCOUNTS)
    account_form = AccountForm(
        request.POST if request.POST.get("form") == "create" else None, prefix="new"
    )
    grant_form = GrantForm(
        request.POST if request.POST.get("form") == "grant" else None, prefix="grant"
    )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "create" and account_form.is_valid():
                d = account_form.cleaned_data
                services.create_account(
                    user=actor(request),
                    unit=unit,
                    username=d["username"],
                    full_name=d["full_name"],
                    password=d["password"],
                    role=Role(d["role"]),
                )
                messages.success(request, _("Account created."))
                return redirect("accounts:members", code=unit.code)
            if request.POST.get("form") == "grant" and grant_form.is_valid():
                d = grant_form.cleaned_data
                services.grant(
                    user=actor(request), unit=unit, username=d["username"], role=d["role"]
                )
                messages.success(request, _("Role granted."))
                return redirect("accounts:members", code=unit.code)
            if request.POST.get("form") == "revoke":
                services.revoke(
                    user=actor(request),
                    membership_id=request.POST.get("membership"),
                    reason=request.POST.get("reason", ""),
                    unit=unit,
                )
                messages.success(request, _("Role withdrawn."))
                return redirect("accounts:members", code=unit.code)
            if request.POST.get("form") == "reset_second_factor":
                account = services.managed_account(
                    actor(request), request.POST.get("username", ""), unit=unit
                )
                second_factor.reset(account, user=actor(request))
                messages.success(request, _("Second factor reset: the person sets it up again."))
                return redirect("accounts:members", code=unit.code)
            if request.POST.get("form") == "unlock":
                account = services.managed_account(
                    actor(request), request.POST.get("username", ""), unit=unit
                )
                lockout.unlock(account, user=actor(request))
                messages.success(request, _("Sign-in unlocked."))
                return redirect("accounts:members", code=unit.code)
        except DubanError as exc:
            add_problems(account_form if request.POST.get("form") == "create" else grant_form, exc)
    memberships = (
        Membership.objects.filter(unit=unit)
        .select_related("user")
        .order_by("user__username", "role")
    )
    names = [m.user.username for m in memberships]
    return render(
        request,
        "accounts/members.html",
        {
            "unit": unit,
            "memberships": memberships,
            "locked": lockout.locked_usernames(names),
            "second_factor": second_factor.users_with_second_factor(names),
            "account_form": account_form,
            "grant_form": grant_form,
        },
    )


# The second factor ---------------------------------------------------------------------------


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return str(reverse(settings.LOGIN_REDIRECT_URL))
    return target


@login_required
@require_http_methods(["GET", "POST"])
def second_step(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app, or a recovery code."""
    user = actor(request)
    if second_factor.is_verified(request) or not second_factor.is_on(user):
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = second_factor.check(request, user, form.cleaned_data["code"])
        if result.outcome is second_factor.Outcome.RECOVERY:
            messages.warning(
                request,
                _("Recovery code accepted; it no longer works. %(left)d left.")
                % {"left": result.codes_left},
            )
        if result.outcome in (second_factor.Outcome.PASSED, second_factor.Outcome.RECOVERY):
            return redirect(_next(request))
        if result.outcome is second_factor.Outcome.WAIT:
            form.add_error(
                "code", _("Too many wrong codes in a row: wait a moment, then try again.")
            )
        else:
            form.add_error("code", _("This code is wrong or has expired."))
    return render(
        request,
        "accounts/second_step.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def second_factor_setup(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up the authenticator app: a QR code and the secret as text, confirmed by a code."""
    user = actor(request)
    if second_factor.is_on(user):
        return redirect("accounts:account")
    device = second_factor.pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = second_factor.confirm(request, user, device, form.cleaned_data["code"])
        if codes is not None:
            return _show_codes(request, codes, _("The second factor is on."))
        form.add_error("code", _("This code is wrong or has expired."))
    return render(
        request,
        "accounts/second_factor.html",
        {
            "form": form,
            "qr": second_factor.qr_svg(device),
            "secret": second_factor.secret_text(device),
            "required": second_factor.requires(user),
        },
    )


@login_required
@require_POST
def recovery_codes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Ten new recovery codes, for a person whose session passed the second step."""
    user = actor(request)
    if not second_factor.is_on(user) or not second_factor.is_verified(request):
        raise policy.PermissionDenied(_("sign in with your second factor first"))
    return _show_codes(
        request, second_factor.renew_recovery_codes(user), _("New recovery codes made.")
    )


@login_required
@require_POST
def second_factor_off(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Switch the second factor off (not for a role that requires one), with a current code."""
    form = CodeForm(request.POST)
    if form.is_valid() and second_factor.switch_off(actor(request), form.cleaned_data["code"]):
        messages.success(request, _("The second factor is off."))
    else:
        messages.error(request, _("The second factor stays on: the code is wrong or has expired."))
    return redirect("accounts:account")


def _show_codes(request: HttpRequest, codes: list[str], title: str) -> HttpResponse:
    """The recovery codes, this once: they are not shown again."""
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "title": title})
