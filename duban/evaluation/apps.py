from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "duban.evaluation"
    label = "evaluation"
    verbose_name = _("Evaluation")

    def ready(self) -> None:
        from duban.evaluation import jobs  # noqa: F401  (registers the recompute with duban.jobs)
        from duban.evaluation.calendars import calendar_for
        from duban.tasks.links import use_calendars

        use_calendars(calendar_for)  # a linked task is judged over its scheme's year
