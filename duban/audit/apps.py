from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "duban.audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from duban.audit import signals  # noqa: F401  (connects the receivers)
