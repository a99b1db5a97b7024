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

from duban.accounts import lockout, services, sessions
from duban.accounts.forms import AccountForm, GrantForm
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
    return render(
        request,
        "accounts/members.html",
        {
            "unit": unit,
            "memberships": memberships,
            "locked": lockout.locked_usernames([m.user.username for m in memberships]),
            "account_form": account_form,
            "grant_form": grant_form,
        },
    )
