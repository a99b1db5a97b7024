from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Project-wide commands and checks that belong to no single domain noun."""

    name = "duban.core"
    verbose_name = _("Duban")

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from duban.core.saving import check_before_save

        # One receiver for every model; it looks at AuditedModel instances only (the base
        # of every domain model, and of User).
        pre_save.connect(check_before_save, dispatch_uid="duban.core.check_before_save")
