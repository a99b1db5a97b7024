"""`duban worker`: run the background work (django-tasks-db's worker, with Duban's defaults).

Every queue, a short poll (a person is waiting on the progress page), no auto-reload
(a reload would cut a running import short). Any option of `db_worker` may be given and
overrides these, e.g. `duban worker --batch` to run what is queued and stop.
"""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorker

POLL_SECONDS = 0.5


class Command(DbWorker):
    help = "Run the background work people start from the pages (imports, documents, recomputes)."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*", interval=POLL_SECONDS, reload=False)
