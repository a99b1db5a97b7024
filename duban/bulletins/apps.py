from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BulletinsConfig(AppConfig):
    name = "duban.bulletins"
    verbose_name = _("Bulletins")

    def ready(self) -> None:
        # The kinds register themselves; the cadence page counts issued bulletins through
        # the hook meetings offers (meetings sits below bulletins and cannot import it).
        from duban.bulletins import monthly, quarterly  # noqa: F401
        from duban.bulletins.access import issued_dates
        from duban.meetings import cadence

        cadence.ISSUED_BULLETINS = issued_dates
