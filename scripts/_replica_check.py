"""The end-to-end check of the read replica, run by `scripts/replica check` (and .ci/run).

With DATABASE_URL on the primary and DATABASE_REPLICA_URL on the hot standby that
`scripts/replica start` made, it goes through Duban's whole middleware stack (Django's test
client, the project's settings, probe pages defined here) and shows, each step printed:

1. a row written on the primary reaches the standby (waits for pg_last_wal_replay_lsn);
2. a GET page's read goes through the router to the standby (in recovery, port 5433), which
   refuses a write ("read-only transaction");
3. after a POST the same browser's pages read the primary, for DUBAN_READ_YOUR_WRITES_SECONDS
   (2 here), then the standby again;
4. a read inside transaction.atomic, in a GET, goes to the primary; with the standby
   unreachable, a GET page is answered from the primary (once retried);
5. behind nginx with two gunicorn servers (when nginx is installed): after a POST answered by
   one server, the next pages — the other server's too — read the primary (the cookie is
   signed with the shared secret key, no state on either server), and later the standby.

With `--pages` (not in CI: it migrates the whole schema) it also signs a province office in
and opens real pages — home, the tree, reporting, tasks, the to-do list, the cockpit —
counting each page's queries on the standby and on the primary.

Exit status 0 when every step holds, 1 with the failing step named otherwise.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duban.settings")
os.environ["DUBAN_READ_YOUR_WRITES_SECONDS"] = "2"
os.environ.setdefault("DUBAN_SECURE_COOKIES", "0")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connections, transaction  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from duban.core import dbrouting  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("DUBAN_REPLICA_CHECK_SERVER", "")  # set in the gunicorn servers
TOKEN = os.environ.get("DUBAN_REPLICA_CHECK_TOKEN") or f"replica-check-{uuid.uuid4().hex[:8]}"


def where(alias: str) -> dict[str, object]:
    with connections[alias].cursor() as cur:
        cur.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        recovery, port = cur.fetchone()
    return {"alias": alias, "in_recovery": recovery, "port": port}


def read_page(request: HttpRequest) -> JsonResponse:
    found = Group.objects.filter(name=TOKEN)
    return JsonResponse({"found": found.exists(), **where(found.db), "server": SERVER})


def atomic_page(request: HttpRequest) -> JsonResponse:
    with transaction.atomic():
        found = Group.objects.filter(name=TOKEN)
        return JsonResponse({"found": found.exists(), **where(found.db)})


@csrf_exempt  # a probe page of this check, never served by Duban itself
def write_page(request: HttpRequest) -> JsonResponse:
    Group.objects.get_or_create(name=TOKEN + "-posted")
    return JsonResponse({"written": True, "server": SERVER})


urlpatterns = [
    path("probe/read/", read_page),
    path("probe/atomic/", atomic_page),
    path("probe/write/", write_page),
]


if SERVER:  # imported by gunicorn: serve the probe pages through Duban's whole middleware
    from django.core.wsgi import get_wsgi_application

    settings.ROOT_URLCONF = __name__
    application = get_wsgi_application()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NGINX_CONF = """
{user}
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    # docs/deployment.md, "Several application servers": two gunicorn servers, round robin.
    upstream duban {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
        keepalive 4;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://duban;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
        }}
    }}
}}
"""


@contextmanager
def two_servers_behind_nginx(nginx: str) -> Iterator[str]:
    """Two gunicorn servers of this module and nginx in front; yields nginx's address."""
    run = Path(tempfile.mkdtemp(prefix="duban-replica-check-"))
    ports = {"A": free_port(), "B": free_port()}
    front = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "DUBAN_REPLICA_CHECK_TOKEN": TOKEN,
        "DUBAN_SECRET_KEY": settings.SECRET_KEY,  # what every server shares (/etc/duban.env)
        "DUBAN_ALLOWED_HOSTS": "127.0.0.1",
    }
    try:
        for name, port in ports.items():
            log = (run / f"gunicorn-{name}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [
                        *(str(ROOT / ".venv/bin/gunicorn"), "--chdir", str(ROOT / "scripts")),
                        *("--bind", f"127.0.0.1:{port}", "--workers", "1", "_replica_check"),
                    ],
                    env={**env, "DUBAN_REPLICA_CHECK_SERVER": name},
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            )
        (run / "nginx.conf").write_text(
            NGINX_CONF.format(
                user="user root;" if os.geteuid() == 0 else "",
                run=run,
                a=ports["A"],
                b=ports["B"],
                port=front,
            )
        )
        procs.append(
            subprocess.Popen(
                [nginx, "-p", str(run), "-c", str(run / "nginx.conf"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=(run / "nginx.out").open("wb"),
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 30
        for port in [*ports.values(), front]:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/probe/read/", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                        for f in [*sorted(run.glob("*.log")), run / "nginx.out"]:
                            print(f"--- {f.name}\n{f.read_text(errors='replace')[-1500:]}")
                        step("two gunicorn servers and nginx start", False, run)
                    time.sleep(0.2)
        yield f"http://127.0.0.1:{front}"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(run, ignore_errors=True)


def across_servers() -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not nginx or not (ROOT / ".venv/bin/gunicorn").exists():
        print("  skip two application servers: nginx or gunicorn is not installed")
        return
    with two_servers_behind_nginx(nginx) as front:
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def get() -> dict[str, object]:
            with browser.open(f"{front}/probe/read/", timeout=10) as answer:
                return dict(json.loads(answer.read()))

        seen = [get(), get()]
        step(
            "behind nginx both servers answer, from the standby",
            {str(p["server"]) for p in seen} == {"A", "B"}
            and all(p["alias"] == "replica" for p in seen),
            [(p["server"], p["alias"]) for p in seen],
        )
        with browser.open(f"{front}/probe/write/", data=b"", timeout=10) as answer:
            posted = json.loads(answer.read())["server"]
        seen = [get(), get()]
        step(
            f"after a POST on server {posted} both servers read the primary for that browser",
            {str(p["server"]) for p in seen} == {"A", "B"}
            and all(p["alias"] == "default" for p in seen),
            [(p["server"], p["alias"]) for p in seen],
        )
        time.sleep(2.2)
        seen = [get(), get()]
        step(
            "after the window both read the standby again",
            all(p["alias"] == "replica" for p in seen),
            [(p["server"], p["alias"]) for p in seen],
        )


def real_pages() -> None:
    """Real Duban pages of a signed-in office through the router: where their queries go."""
    from django.test.utils import CaptureQueriesContext

    from duban.orgs.models import OrgUnit
    from duban.testing import make_tree, make_user

    t0 = time.monotonic()
    call_command("migrate", verbosity=0)
    print(f"  (migrated the scratch database in {time.monotonic() - t0:.0f} s)")
    if not OrgUnit.objects.filter(code="PROV").exists():
        make_tree()
    from duban.accounts.models import User

    user = User.objects.filter(username="replica_office").first() or make_user(
        "replica_office", OrgUnit.objects.get(code="PROV"), "office"
    )
    wait_for_replay()
    client = Client()
    client.force_login(user)
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        for url in ["/", "/orgs/", "/reporting/", "/tasks/", "/todo/", "/cockpit/PROV/"]:
            with (
                CaptureQueriesContext(connections["replica"]) as on_replica,
                CaptureQueriesContext(connections["default"]) as on_primary,
            ):
                answer = client.get(url)
            tables = sorted(
                {
                    q["sql"].split('FROM "', 1)[1].split('"', 1)[0]
                    for q in on_primary
                    if 'FROM "' in q["sql"]
                }
            )
            step(
                f"page {url}",
                answer.status_code in (200, 302) and len(on_replica) > 0,
                f"{answer.status_code}, {len(on_replica)} queries on the standby, "
                f"{len(on_primary)} on the primary {tables}",
            )


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

        # The standby going away: its port now answers nobody.
        replica = connections["replica"]
        replica.close()
        port = replica.settings_dict["PORT"]
        replica.settings_dict["PORT"] = free_port()
        try:
            seen = json.loads(Client().get("/probe/read/").content)
            step(
                "with the standby unreachable a GET page is answered from the primary",
                seen["alias"] == "default" and seen["found"] is True,
                seen,
            )
        finally:
            replica.close()
            replica.settings_dict["PORT"] = port
            dbrouting.resume_replica()

    across_servers()
    if "--pages" in sys.argv[1:]:
        real_pages()
    with connections["default"].cursor() as cur:  # only auth's tables exist: no cascade
        cur.execute("DELETE FROM auth_group WHERE name LIKE %s", [TOKEN + "%"])
    print(f"replica check passed in {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main()
