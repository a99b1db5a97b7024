from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CockpitConfig(AppConfig):
    name = "duban.cockpit"
    verbose_name = _("Cockpit")

    def ready(self) -> None:
        # The dispatch brief registers itself as a kind of document (duban.bulletins.kinds).
        from duban.cockpit import brief  # noqa: F401
