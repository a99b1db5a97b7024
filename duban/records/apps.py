from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "duban.records"
    verbose_name = _("Business records")

    def ready(self) -> None:
        from duban.records import jobs  # noqa: F401  (registers the recompute with duban.jobs)
