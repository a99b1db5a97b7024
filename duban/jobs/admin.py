"""The queue's own rows stay out of the configuration pages.

django-tasks-db registers its task results with the admin; they hold job ids and tracebacks
of every unit's work, with no unit to scope them by (`orgs/tests/test_admin.py` walks every
registration). People follow their work on `/jobs/`; administrators use `duban worker` and
`prune_db_task_results`. This module is discovered after django-tasks-db's (INSTALLED_APPS).
"""

from django.contrib import admin
from django_tasks_db.models import DBTaskResult

if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
