from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TodoConfig(AppConfig):
    name = "duban.todo"
    verbose_name = _("To do")

    def ready(self) -> None:
        from duban.todo import signals  # noqa: F401  (the events people are told of)
