from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "duban.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from duban.accounts import audit_types, checks, lockout, sessions  # noqa: F401  (receivers, codes)

        _hide_device_admin()


def _hide_device_admin() -> None:
    """django-otp registers its devices in the admin, where a key could be read or a device
    changed unaudited, beside the policy: second factors are reset on the accounts page only."""
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
