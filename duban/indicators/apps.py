from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "duban.indicators"
    verbose_name = _("Indicators")

    def ready(self) -> None:
        from duban.audit.labels import register_value_labels
        from duban.orgs.models import Kind, Level

        # The trail says 县（区）级 and 地方公安机关, not county and territorial.
        register_value_labels("indicators.indicator", "levels", lambda: Level.choices)
        register_value_labels("indicators.indicator", "kinds", lambda: Kind.choices)
