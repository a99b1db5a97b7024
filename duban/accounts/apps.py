from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "duban.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from duban.accounts import lockout, sessions  # noqa: F401  (their receivers)
