from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Project-wide commands and checks that belong to no single domain noun."""

    name = "duban.core"
    verbose_name = _("Duban")
