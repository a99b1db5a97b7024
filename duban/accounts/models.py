"""People who sign in. What they may do comes from their memberships (duban.orgs)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from duban.audit.models import AuditedModel


class User(AuditedModel, AbstractUser):
    """A person. Chinese names are not split into first and last, so `full_name` holds it."""

    audit_exclude: ClassVar[frozenset[str]] = frozenset({"last_login"})

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("Empty: follow the browser."),
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # Raised by "sign out everywhere": every session signed with the old value ends.
    session_epoch = models.PositiveIntegerField(_("session generation"), default=0)
    # Set when an administrator gives the password: the person chooses his own first.
    must_change_password = models.BooleanField(_("must change the password"), default=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.full_name or self.username

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's session hash (an HMAC of the password hash) with the session generation
        in it: a new password or a new generation ends every session of the account."""
        return salted_hmac(
            "duban.accounts.User.session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def audit_unit_id(self) -> int | None:
        first = self.memberships.order_by("id").values_list("unit_id", flat=True).first()
        return first
