"""The production set-up of docs/deployment.md, tried: scripts/production brings up nginx with TLS,
gunicorn, `duban worker` and a scratch database from the files in deploy/; a reporter signs in
over HTTPS, enters a figure and reads it back; then everything stops and nothing is left.

It reaches the database through the script's processes, so it is marked `django_db` (conftest's
rule) and `production`: under scripts/test it runs once, on the PostgreSQL pass, on a scratch
database of that server (production's database); run alone on SQLite it uses `--sqlite`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "production"

# The world the reporter works in: the tests' small tree and monthly form (never expiring).
WORLD = """
from types import SimpleNamespace
from duban.testing import make_tree, make_user
from duban.reporting.tests.conftest import make_form
tree = SimpleNamespace(**make_tree())
make_user("county_reporter", tree.county_a, "reporter", full_name="甲县填报员")
make_form(tree, expiry_days=0)
"""
FORM = "reporting/forms/CITY-M/COUNTY-A/201712/"


def production(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DUBAN_"))}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def database_option() -> list[str]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return ["--postgres", url.rsplit("/", 1)[0]]  # the suite's server, a scratch database
    return ["--sqlite"]


def alive(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] not in "ZX" and int(fields[2]) == pgid:
            found.append(int(stat.parent.name))
    return found


def token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def sign_in(session: requests.Session, base: str) -> requests.Response:
    page = session.get(base + "accounts/login/")
    assert page.status_code == 200
    return session.post(
        base + "accounts/login/",
        data={
            "csrfmiddlewaretoken": token(page.text),
            "username": "county_reporter",
            "password": "Test-pass-2017!",
        },
        headers={"Referer": base + "accounts/login/"},
    )


def enter_figure(session: requests.Session, base: str, value: str) -> requests.Response:
    page = session.get(base + FORM)
    assert page.status_code == 200, page.text[:500]
    version = re.search(r'name="version" value="(\d*)"', page.text)
    assert version
    return session.post(
        base + FORM,
        data={
            "csrfmiddlewaretoken": token(page.text),
            "version": version.group(1),
            "v:case.filed": value,
            "iv:case.filed": "",
        },
        headers={"Referer": base + FORM},
    )


def worker_makes_a_file(session: requests.Session, base: str) -> None:
    """The ledger in Excel, made by `duban worker` (the worker unit's process), not the request."""
    ledger = session.get(base + "tasks/ledger/")
    started = session.post(
        base + "tasks/ledger.xlsx/background/",
        data={"csrfmiddlewaretoken": token(ledger.text), "query": ""},
        headers={"Referer": base + "tasks/ledger/"},
        allow_redirects=False,
    )
    assert started.status_code == 302, started.text[:500]
    job = base + started.headers["Location"].lstrip("/") + "file/"
    deadline = time.monotonic() + 60
    while (answer := session.get(job)).status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert answer.status_code == 200, "the worker did not make the file within 60 s"
    assert answer.content[:2] == b"PK"  # an xlsx is a zip


def check_headers(answer: requests.Response) -> None:
    headers = answer.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000"), headers
    assert "no-store" in headers["Cache-Control"]
    assert headers["Server"] == "nginx"  # server_tokens off: no version
    assert headers["X-Frame-Options"] == "DENY"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])  # nginx's $request_id
    csp = headers.get("Content-Security-Policy")
    if csp is not None:  # issue 15's CSP: no inline scripts or styles
        assert "unsafe-inline" not in csp, csp


def rotate_logs(run: Path) -> bool:
    """logrotate with deploy/logrotate: the live file is emptied in place, writing goes on."""
    if subprocess.run(["which", "logrotate"], capture_output=True).returncode != 0:
        return False  # scripts/test installs it; a machine without it only skips this step
    config = run / "etc" / "logrotate" / "duban"
    done = subprocess.run(
        ["logrotate", "--force", "--state", str(run / "logrotate.state"), str(config)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert list((run / "logs").glob("web.log-*")), sorted(p.name for p in (run / "logs").iterdir())
    assert 'msg="job done"' not in (run / "logs" / "worker.log").read_text()
    return True


def test_render_fills_every_placeholder_with_an_installation_s_values(tmp_path) -> None:
    """`scripts/production render`: the files to copy to a server, with fresh keys each time."""
    for dest in ("a", "b"):
        done = production("render", str(tmp_path / dest), "--server-name", "duban.gaj.local")
        assert done.returncode == 0, done.stderr
    files = sorted(p for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 8
    for path in files:
        assert not re.search(r"@[A-Z_]+@", path.read_text()), path
    web = (tmp_path / "a" / "systemd" / "duban-web.service").read_text()
    assert (
        "ExecStart=/opt/duban/.venv/bin/gunicorn --config /opt/duban/deploy/gunicorn.conf.py" in web
    )
    nginx = (tmp_path / "a" / "nginx" / "duban.conf").read_text()
    assert "listen 443 ssl;" in nginx and "server 127.0.0.1:8000;" in nginx
    env = {}
    for name in ("a", "b"):
        path = tmp_path / name / "duban.env"
        assert path.stat().st_mode & 0o777 == 0o600
        env[name] = dict(
            line.split("=", 1)
            for line in path.read_text().splitlines()
            if "=" in line and line[0] != "#"
        )
    assert env["a"]["DUBAN_ALLOWED_HOSTS"] == "duban.gaj.local"
    assert env["a"]["DUBAN_SECRET_KEY"] != env["b"]["DUBAN_SECRET_KEY"]
    assert (
        len(env["a"]["DUBAN_AUDIT_KEY"]) >= 32
        and env["a"]["DUBAN_AUDIT_KEY"] != env["b"]["DUBAN_AUDIT_KEY"]
    )


@pytest.mark.production
@pytest.mark.django_db
def test_the_production_set_up_serves_a_reporter_over_https_and_stops_clean(tmp_path) -> None:
    run = tmp_path / "production"
    started = production("start", "--run-dir", str(run), *database_option())
    if started.returncode == 3 and os.environ.get("CI") != "true":
        pytest.skip(f"nginx cannot be installed here: {started.stderr.strip()}")
    state = json.loads((run / "state.json").read_text()) if (run / "state.json").exists() else {}
    rotated = False
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "migrate, check --deploy" in started.stdout  # check --deploy passed
        world = production("duban", "--run-dir", str(run), "shell", "-c", WORLD)
        assert world.returncode == 0, world.stderr
        base = state["url"]
        session = requests.Session()
        session.trust_env = False  # no proxy, and no REQUESTS_CA_BUNDLE overriding the next line
        session.verify = state["ca"]  # the certificate made for this run: TLS checked, not skipped
        signed_in = sign_in(session, base)
        assert signed_in.status_code == 200 and "accounts/login" not in signed_in.url, signed_in.url
        saved = enter_figure(session, base, "12")
        assert saved.status_code == 200 and saved.url == base + FORM, saved.text[:500]
        page = session.get(base + FORM)  # read back: the figure is in the database
        assert re.search(r'name="v:case.filed"[^>]*value="12"', page.text), page.text[:2000]
        check_headers(page)
        assert "no-store" in session.get(base + "reporting/").headers["Cache-Control"]
        plain = session.get(
            f"http://127.0.0.1:{state['ports']['http']}/reporting/", allow_redirects=False
        )
        assert plain.status_code == 301
        assert plain.headers["Location"] == base + "reporting/"
        rotated = rotate_logs(run)
        worker_makes_a_file(session, base)
        refused = session.get(base + "reporting/forms/CITY-M/COUNTY-B/201712/")
        assert refused.status_code in (403, 404)
        daily = production("daily", "--run-dir", str(run))
        assert daily.returncode == 0, (run / "logs" / "daily.log").read_text()[-2000:]
        assert (run / "data" / "audit-anchor.jsonl").read_text().strip()  # anchored
    finally:
        stopped = production("stop", "--run-dir", str(run))
    assert stopped.returncode == 0, stopped.stderr
    if rotated:  # the worker wrote on into the file emptied in place
        assert 'msg="job done"' in (run / "logs" / "worker.log").read_text()
    for name, pid in state["pids"].items():
        assert not alive(pid), f"{name} left running: {alive(pid)}"
    assert not (run / "state.json").exists()
    if "database" in state:
        import psycopg

        with psycopg.connect(state["database"]["server"] + "/postgres") as conn:
            left = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [state["database"]["name"]]
            ).fetchall()
        assert not left, "the scratch database was not dropped"
