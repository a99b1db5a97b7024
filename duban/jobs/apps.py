"""Background work that a person waits for: progress, a clear end, run by `duban worker`."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "duban.jobs"
    verbose_name = _("Background work")

    def ready(self) -> None:
        # Each app registers its kinds of work in its own `jobs.py` (duban/tasks/jobs.py, …);
        # the web process and the worker both load them all, so either knows every kind.
        autodiscover_modules("jobs")
