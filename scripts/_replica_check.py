"""The end-to-end check of the read replica, run by `scripts/replica check` (and .ci/run).

With DATABASE_URL on the primary and DATABASE_REPLICA_URL on the hot standby that
`scripts/replica start` made, it goes through Duban's whole middleware stack (Django's test
client, the project's settings, probe pages defined here) and shows, each step printed:

1. a row written on the primary reaches the standby (waits for pg_last_wal_replay_lsn);
2. a GET page's read goes through the router to the standby (in recovery, port 5433), which
   refuses a write ("read-only transaction");
3. after a POST the same browser's pages read the primary, for DUBAN_READ_YOUR_WRITES_SECONDS
   (2 here), then the standby again;
4. a read inside transaction.atomic, in a GET, goes to the primary.

Exit status 0 when every step holds, 1 with the failing step named otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duban.settings")
os.environ["DUBAN_READ_YOUR_WRITES_SECONDS"] = "2"
os.environ.setdefault("DUBAN_SECURE_COOKIES", "0")

import django

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connections, transaction  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from duban.core import dbrouting  # noqa: E402

TOKEN = f"replica-check-{uuid.uuid4().hex[:8]}"


def where(alias: str) -> dict[str, object]:
    with connections[alias].cursor() as cur:
        cur.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        recovery, port = cur.fetchone()
    return {"alias": alias, "in_recovery": recovery, "port": port}


def read_page(request: HttpRequest) -> JsonResponse:
    found = Group.objects.filter(name=TOKEN)
    return JsonResponse({"found": found.exists(), **where(found.db)})


def atomic_page(request: HttpRequest) -> JsonResponse:
    with transaction.atomic():
        found = Group.objects.filter(name=TOKEN)
        return JsonResponse({"found": found.exists(), **where(found.db)})


def write_page(request: HttpRequest) -> JsonResponse:
    Group.objects.get_or_create(name=TOKEN + "-posted")
    return JsonResponse({"written": True})


urlpatterns = [
    path("probe/read/", read_page),
    path("probe/atomic/", atomic_page),
    path("probe/write/", write_page),
]


def step(title: str, ok: bool, detail: object) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {title}: {detail}")
    if not ok:
        print(f"replica check failed at: {title}", file=sys.stderr)
        sys.exit(1)


def wait_for_replay() -> float:
    """Seconds until the standby has replayed the primary's WAL up to now."""
    with connections["default"].cursor() as cur:
        cur.execute("SELECT pg_current_wal_lsn()::text")
        (lsn,) = cur.fetchone()
    t0 = time.monotonic()
    with connections["replica"].cursor() as cur:
        while True:
            cur.execute("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) >= 0", [lsn])
            if cur.fetchone()[0]:
                return time.monotonic() - t0
            if time.monotonic() - t0 > 10:
                step("the standby replays the primary's WAL", False, f"not at {lsn} after 10 s")
            time.sleep(0.01)


def main() -> None:
    t0 = time.monotonic()
    alias = dbrouting.replica_alias()
    step("a replica is configured and is another server", alias == "replica", alias)
    call_command("migrate", "auth", verbosity=0)  # auth_group is the probe's table
    Group.objects.create(name=TOKEN)
    step("a row written on the primary reaches the standby", True, f"{wait_for_replay():.3f} s")

    client = Client()
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
        seen = json.loads(client.get("/probe/read/").content)
        step(
            "a GET page reads the standby through the router",
            seen["alias"] == "replica" and seen["in_recovery"] is True and seen["found"] is True,
            seen,
        )
        try:
            with connections["replica"].cursor() as cur:
                cur.execute("UPDATE auth_group SET name = name WHERE name = %s", [TOKEN])
            refused = "accepted"
        except DatabaseError as exc:
            refused = str(exc).strip().splitlines()[0]
        step("the standby refuses a write", "read-only transaction" in refused, refused)

        answer = client.post("/probe/write/")
        step(
            "a POST marks the browser for read-your-writes",
            dbrouting.COOKIE in answer.cookies,
            f"{dbrouting.COOKIE}, max-age {answer.cookies[dbrouting.COOKIE]['max-age']} s"
            if dbrouting.COOKIE in answer.cookies
            else "no cookie",
        )
        seen = json.loads(client.get("/probe/read/").content)
        step("the next page reads the primary", seen["alias"] == "default", seen)
        time.sleep(2.2)
        seen = json.loads(client.get("/probe/read/").content)
        step("after the window the pages read the standby again", seen["alias"] == "replica", seen)
        seen = json.loads(client.get("/probe/atomic/").content)
        step(
            "a read inside transaction.atomic goes to the primary", seen["alias"] == "default", seen
        )

    with connections["default"].cursor() as cur:  # only auth's tables exist: no cascade
        cur.execute("DELETE FROM auth_group WHERE name LIKE %s", [TOKEN + "%"])
    print(f"replica check passed in {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
