"""The second factor (MLPS level 3, ASVS 2.7/2.8): a TOTP app, and ten one-time recovery codes.

django-otp keeps the devices: a `TOTPDevice` named "app" (unconfirmed until the person types
a code from it) and a `StaticDevice` named "recovery" holding the codes; each code used is
deleted. Required of the three administrators (`requires`), open to everyone.

Wrong codes are throttled by django-otp itself, per device: after n failures in a row the
next try is refused for 2^(n-1) seconds (1, 2, 4 … so ten wrong codes cost 8 minutes, twenty
a week), reset by a right code. The password step stays under the django-axes lockout; every
wrong code is in the audit trail.
"""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from duban.accounts.models import User
from duban.audit.services import record
from duban.orgs import policy
from duban.orgs.models import ADMIN_ROLES

APP = "app"
RECOVERY = "recovery"
RECOVERY_CODES = 10


def requires(user: User) -> bool:
    """Whether this person must have a second factor: the three administrators (and Django
    superusers), unless `DUBAN_REQUIRE_SECOND_FACTOR` is off (the demo, most tests)."""
    if not settings.DUBAN_REQUIRE_SECOND_FACTOR:
        return False
    return user.is_superuser or any(role in ADMIN_ROLES for role, _path in policy.grants(user))


def app_device(user: User) -> TOTPDevice | None:
    """The person's confirmed TOTP device, if he has one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_on(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_verified(request: HttpRequest) -> bool:
    """Whether this session passed the second step (django-otp's OTPMiddleware sets it)."""
    return getattr(request.user, "otp_device", None) is not None


def users_with_second_factor(usernames: list[str]) -> set[str]:
    return set(
        TOTPDevice.objects.filter(user__username__in=usernames, confirmed=True).values_list(
            "user__username", flat=True
        )
    )


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY).count()


# Enrolment -----------------------------------------------------------------------------------


@transaction.atomic
def pending_device(user: User) -> TOTPDevice:
    """The secret being set up: made once (audited), the same on every reload until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False, name=APP).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP, confirmed=False)
        record("accounts.second_factor.enrolment_started", obj=user)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app takes it typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The `otpauth://` address as an SVG QR code, drawn here: nothing loads from elsewhere."""
    code = segno.make(device.config_url, error="m")
    return str(code.svg_inline(omitsize=True, dark="#111", light="#fff", title=_("QR code")))


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


@transaction.atomic
def confirm(request: HttpRequest, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Switch the app on with a code it shows; this session counts as verified. Returns the
    ten recovery codes (shown once), or None for a wrong code (audited)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if not device.verify_token(_digits(code)):
        record("accounts.second_factor.failed", obj=user, after={"step": "enrolment"})
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    record("accounts.second_factor.confirmed", obj=user)
    _passed(request, device)
    return codes


@transaction.atomic
def renew_recovery_codes(user: User) -> list[str]:
    """Ten new codes; the old ones stop working."""
    codes = _new_recovery_codes(user)
    record("accounts.second_factor.codes_renewed", obj=user)
    return codes


# The second step of signing in ---------------------------------------------------------------


def _passed(request: HttpRequest, device: TOTPDevice | StaticDevice) -> None:
    """Mark the session as past the second step, under a new session id (a privilege gained,
    as at sign-in: a session id seen before the step is worth nothing after it)."""
    request.session.cycle_key()
    django_otp.login(request, device)


class Outcome(StrEnum):
    PASSED = "passed"
    RECOVERY = "recovery"  # passed with a recovery code, now spent
    WRONG = "wrong"
    WAIT = "wait"  # throttled: too many wrong codes in a row


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    wait_until: datetime | None = None
    codes_left: int = 0


def _digits(code: str) -> str:
    return "".join(code.split())


def _recovery(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


@transaction.atomic
def check(request: HttpRequest, user: User, code: str) -> Check:
    """Verify a six-digit code from the app, or else a recovery code, and mark the session."""
    digits = _digits(code)
    is_app_code = digits.isdigit() and len(digits) == 6
    model = TOTPDevice if is_app_code else StaticDevice
    device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None:
        record("accounts.second_factor.failed", obj=user, after={"step": "sign-in"})
        return Check(Outcome.WRONG)
    allowed, why = device.verify_is_allowed()
    if not allowed:
        return Check(Outcome.WAIT, wait_until=(why or {}).get("locked_until"))
    if not device.verify_token(digits if is_app_code else _recovery(code)):
        record("accounts.second_factor.failed", obj=user, after={"step": "sign-in"})
        return Check(Outcome.WRONG)
    _passed(request, device)
    if is_app_code:
        record("accounts.second_factor.passed", obj=user)
        return Check(Outcome.PASSED)
    left = recovery_codes_left(user)
    record("accounts.second_factor.recovery_used", obj=user, after={"left": left})
    return Check(Outcome.RECOVERY, codes_left=left)


@transaction.atomic
def switch_off(user: User, code: str) -> bool:
    """A person whose role does not require it switches his second factor off, with a code
    from the app (a stolen session alone cannot); False for a wrong code (audited)."""
    if requires(user):
        raise policy.PermissionDenied(_("your role requires a second factor"))
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None or not device.verify_token(_digits(code)):
        record("accounts.second_factor.failed", obj=user, after={"step": "switch-off"})
        return False
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    record("accounts.second_factor.switched_off", obj=user)
    return True


# The security administrator ------------------------------------------------------------------


@transaction.atomic
def reset(account: User, *, user: User) -> None:
    """The security administrator removes a person's app and codes (a lost phone); an
    administrator is asked to set up a new one at his next page."""
    if not policy.manages_account(user, account):
        raise policy.PermissionDenied(_("the account has roles outside your reach"))
    TOTPDevice.objects.filter(user=account).delete()
    StaticDevice.objects.filter(user=account).delete()
    record("accounts.second_factor.reset", obj=account)
