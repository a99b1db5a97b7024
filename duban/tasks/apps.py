from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "duban.tasks"
    verbose_name = _("Tasks")

    def ready(self) -> None:
        from duban.audit.labels import register_value_labels
        from duban.tasks.models import completed_via_choices

        register_value_labels("tasks.task", "completed_via", completed_via_choices)
