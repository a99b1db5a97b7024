"""Fuzz the JSON API with schemathesis against a fresh demo; fail on any 5xx answer.

    .venv/bin/python scripts/fuzz_api.py [--examples N] [--seed S] [--keep]

A throwaway data directory gets its own SQLite database, the demo and one open month (so the
write paths are reached, not only the "period not open" refusal); the server is started on a
free port; then schemathesis runs every operation of /api/openapi.json with the office's
session (yz_office), a reporter's (lst_reporter), an approver's (lst_approver), a division
head's (jj_leader) and the three administrators' (yz_sysadmin, yz_secadmin, yz_auditor), side by
side, with the check
`not_a_server_error`. Codes the demo really has are fed in (scripts/fuzz/schemathesis.toml), so
most requests get past the 404. Exit status 1 when any 5xx was found; the server's tracebacks
are printed. `scripts/test` runs it after the test suite; CI runs `scripts/test`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from _local_server import free_port, wait_for  # scripts/ is on the path of a script

ROOT = Path(__file__).resolve().parent.parent
DUBAN = ROOT / ".venv" / "bin" / "duban"
CONFIG = ROOT / "scripts" / "fuzz" / "schemathesis.toml"
PASSWORD = "Duban-demo-2017"
# Each persona's session: cases per operation and schemathesis' phases. The office and the
# reporter reach most write paths and run every phase (the coverage and stateful phases alone
# draw some 2,900 cases whatever the examples); the approver, the division head and the three
# administrators add the approval, line, tree, account and audit paths, by fuzzing only.
ALL_PHASES = "examples,coverage,fuzzing,stateful"
SESSIONS = {
    "yz_office": (4, ALL_PHASES),
    "lst_reporter": (4, ALL_PHASES),
    "lst_approver": (4, "fuzzing"),
    "jj_leader": (4, "fuzzing"),
    "yz_sysadmin": (3, "fuzzing"),
    "yz_secadmin": (3, "fuzzing"),
    "yz_auditor": (3, "fuzzing"),
}
OPEN_MONTH = """
from duban.indicators.models import DataSet
from duban.orgs.policy import SYSTEM
from duban.reporting.services import open_period
from duban.tasks.services import today_local
month = today_local().strftime("%Y%m")
for ds in DataSet.objects.filter(code__in=["YZ-MONTHLY", "SX-MONTHLY"]):
    if not ds.reporting_periods.filter(period=month).exists():
        open_period(ds, month, user=SYSTEM)
"""


def duban(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(DUBAN), *args], env=env, check=True)


def log_in(base: str, username: str) -> tuple[str, str]:
    """A session as a browser gets it: the cookie header and the CSRF token."""
    s = requests.Session()
    s.get(f"{base}/accounts/login/", timeout=10)
    token = s.cookies["csrftoken"]
    r = s.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    if r.status_code != 302 or "sessionid" not in s.cookies:
        raise SystemExit(f"cannot log in as {username}: {r.status_code}")
    token = str(s.cookies["csrftoken"])  # a login rotates the token
    return f"sessionid={s.cookies['sessionid']}; csrftoken={token}", token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples", type=int, default=0, help="test cases per operation and session (0: as set)"
    )
    parser.add_argument("--seed", default="2017", help="schemathesis seed ('' for random)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="duban-fuzz-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DUBAN_DATA_DIR=str(data_dir),
        DUBAN_SECURE_COOKIES="0",
        DUBAN_DEBUG="0",
        DUBAN_ALLOWED_HOSTS="127.0.0.1,localhost",
        DUBAN_REQUIRE_SECOND_FACTOR="0",  # a demo: the administrators sign in by password
    )
    print(f"==> fuzz: demo in {data_dir}", flush=True)
    duban("migrate", "--noinput", "-v0", env=env)
    subprocess.run(
        [str(DUBAN), "demo"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    duban("shell", "-c", OPEN_MONTH, env=env)
    # One server per session, all on the one demo database, the sessions fuzzed side by
    # side: the two cores stay busy (one server process alone is bound by its interpreter).
    servers, runs, failed = [], [], []
    try:
        for username, (examples, phases) in SESSIONS.items():
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            log = (data_dir / f"server-{username}.log").open("w")
            servers.append(
                subprocess.Popen(
                    [str(DUBAN), "runserver", f"127.0.0.1:{port}", "--noreload"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            wait_for(f"{base}/accounts/login/")
            cookie, token = log_in(base, username)
            # The OpenAPI document is for people signed in: read it with the session.
            schema = data_dir / f"openapi-{username}.json"
            answer = requests.get(
                f"{base}/api/openapi.json", headers={"Cookie": cookie}, timeout=30
            )
            answer.raise_for_status()
            schema.write_bytes(answer.content)
            command = [
                str(ROOT / ".venv" / "bin" / "schemathesis"),
                "--config-file",
                str(CONFIG),
                "run",
                str(schema),
                "--url",
                base,
                "--checks",
                "not_a_server_error",
                "--max-examples",
                str(args.examples or examples),
                "--phases",
                phases,
                # One worker: hypothesis parses lambdas with `ast` while it draws, and on Python
                # 3.11 parsing in several threads at once can fail ("AST constructor recursion
                # depth mismatch", CPython gh-106905): a crash of the tool, not of Duban.
                "--workers",
                "1",
                "--header",
                f"Cookie: {cookie}",
                "--header",
                f"X-CSRFToken: {token}",
                "--header",
                f"Referer: {base}/",
                "--no-color",
                "--warnings",
                "off",
            ]
            if args.seed:
                command += ["--seed", args.seed]
            out = (data_dir / f"schemathesis-{username}.txt").open("w")
            print(f"==> fuzz: schemathesis as {username}", flush=True)
            runs.append(
                (
                    username,
                    subprocess.Popen(command, cwd=data_dir, stdout=out, stderr=subprocess.STDOUT),
                )
            )
        for username, run in runs:
            if run.wait() != 0:
                failed.append(username)
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    for username, _run in runs:
        report = (data_dir / f"schemathesis-{username}.txt").read_text(errors="replace")
        print(f"==> fuzz: schemathesis as {username}")
        print(report if username in failed else "\n".join(report.splitlines()[-12:]))
    log_text = "".join(p.read_text(errors="replace") for p in data_dir.glob("server-*.log"))
    errors = log_text.split("Internal Server Error: ")[1:]
    if errors:
        print(f"==> fuzz: {len(errors)} server errors (path, then the exception)")
        for block in errors:
            lines = block.splitlines()
            ends = [n for n, ln in enumerate(lines) if ln.startswith("[")]
            lines = lines[: ends[0]] if ends else lines  # up to the server's request line
            raised = [ln for ln in lines if re.match(r"^[\w.]+(Error|Exception|Overflow)\b", ln)]
            print(f"  {lines[0]}: {raised[-1] if raised else '?'}")
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    if failed:
        print(f"==> fuzz: 5xx answers found with the sessions of {', '.join(failed)}")
        return 1
    print("==> fuzz: no 5xx answer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
