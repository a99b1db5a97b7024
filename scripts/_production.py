"""The production set-up of docs/deployment.md, tried on this machine (run by scripts/production).

Containers here have no systemd, so this plays its part: it renders the files of deploy/ with
local values (ports on the loopback, a run directory, a fresh self-signed certificate), reads the
units' ExecStart, WorkingDirectory, EnvironmentFile and StandardError lines and runs exactly
those commands as background processes, each in its own process group with its pid recorded,
behind Debian's nginx running deploy/nginx/duban.conf. `render` writes the same files with
production values for an installation (docs/deployment.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
VENV_BIN = ROOT / ".venv" / "bin"
TOKEN = re.compile(r"@([A-Z_]+)@")
# deploy/ file -> where `render` puts it (and the path it has on an installed server).
FILES = {
    "duban.env": "duban.env",  # /etc/duban.env
    "nginx/duban.conf": "nginx/duban.conf",  # /etc/nginx/sites-available/duban
    "nginx/log-format.conf": "nginx/log-format.conf",  # /etc/nginx/conf.d/duban-log-format.conf
    "systemd/duban-web.service": "systemd/duban-web.service",  # /etc/systemd/system/
    "systemd/duban-worker.service": "systemd/duban-worker.service",
    "systemd/duban-daily.service": "systemd/duban-daily.service",
    "systemd/duban-daily.timer": "systemd/duban-daily.timer",
    "logrotate": "logrotate/duban",  # /etc/logrotate.d/duban
}
LONG_RUNNING = ("duban-web", "duban-worker")
STOP_SECONDS = {"nginx": 10, "duban-web": 35, "duban-worker": 120}  # the units' TimeoutStopSec
NGINX_MAIN = """\
# scripts/production's own nginx.conf: what Debian's /etc/nginx/nginx.conf gives the site file.
daemon off;
worker_processes 1;
pid {run}/run/nginx.pid;
error_log {run}/logs/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {run}/nginx/body;
    proxy_temp_path {run}/nginx/proxy;
    fastcgi_temp_path {run}/nginx/fastcgi;
    uwsgi_temp_path {run}/nginx/uwsgi;
    scgi_temp_path {run}/nginx/scgi;
    include {run}/etc/nginx/log-format.conf;
    include {run}/etc/nginx/duban.conf;
}}
"""


class Failed(SystemExit):
    """A step that failed, with a sentence saying which (exit status 1)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"scripts/production: {message}")


def render(text: str, values: dict[str, str], name: str) -> str:
    missing = sorted(set(TOKEN.findall(text)) - set(values))
    if missing:
        raise Failed(f"{name}: no value for {', '.join(missing)}")
    return TOKEN.sub(lambda m: values[m.group(1)], text)


def render_all(dest: Path, values: dict[str, str]) -> None:
    for source, target in FILES.items():
        out = dest / target
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render((DEPLOY / source).read_text(), values, source))
    (dest / "duban.env").chmod(0o600)


def production_values(args: argparse.Namespace) -> dict[str, str]:
    """An installation's values: the paths of docs/deployment.md, fresh keys."""
    return {
        "ROOT": args.root,
        "ENV_FILE": "/etc/duban.env",
        "DATA_DIR": "/var/lib/duban",
        "LOG_DIR": "/var/log/duban",
        "NGINX_LOG_DIR": "/var/log/nginx",
        "LOG_USER": "duban",
        "LOG_GROUP": "duban",
        "SERVER_NAME": args.server_name,
        "SITE_URL": f"https://{args.server_name}",
        "HTTPS_PORT": "443",
        "HTTP_PORT": "80",
        "UPSTREAM": "127.0.0.1:8000",
        "TLS_CERT": f"/etc/duban/tls/{args.server_name}.crt",
        "TLS_KEY": f"/etc/duban/tls/{args.server_name}.key",
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_KEY": secrets.token_hex(32),
        "AUDIT_ANCHOR": "/var/lib/duban-anchor/audit-anchor.jsonl",
    }


# --- units, read as systemd reads them (the few keys used here) -------------------------------


def unit_service(path: Path) -> dict[str, str]:
    """The [Service] keys of a unit file, continuation lines joined."""
    keys: dict[str, str] = {}
    section = ""
    for line in path.read_text().replace("\\\n", " ").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            keys[key] = value
    return keys


def environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile reads them (no shell expansion)."""
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def unit_env(service: dict[str, str]) -> dict[str, str]:
    """A clean environment, as systemd gives a service, plus its EnvironmentFile."""
    base = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }
    return {**base, **environment_file(Path(service["EnvironmentFile"]))}


def start_unit(run: Path, name: str, extra: list[str]) -> int:
    service = unit_service(run / "etc" / "systemd" / f"{name}.service")
    log = Path(service["StandardError"].removeprefix("append:"))
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*shlex.split(service["ExecStart"]), *extra],
            cwd=service["WorkingDirectory"],
            env=unit_env(service),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group: stop ends it and its children
        )
    (run / "run" / f"{name}.pid").write_text(f"{process.pid}\n")
    return process.pid


def duban_process(run: Path, args: list[str]) -> subprocess.Popen[bytes]:
    """A `duban` command with the daily unit's environment and directory (migrate, check …)."""
    service = unit_service(run / "etc" / "systemd" / "duban-daily.service")
    return subprocess.Popen(
        [str(VENV_BIN / "duban"), *args], cwd=service["WorkingDirectory"], env=unit_env(service)
    )


def run_once(run: Path, args: list[str], *, check: bool = True) -> int:
    status = duban_process(run, args).wait()
    if check and status != 0:
        raise Failed(f"`duban {' '.join(args)}` failed (status {status})")
    return status


def translations_compiled() -> bool:
    """Every catalogue's .mo is newer than its .po (scripts/_setup.sh's set-up compiles them)."""
    pos = list((ROOT / "duban").rglob("LC_MESSAGES/*.po"))
    return all(
        po.with_suffix(".mo").exists()
        and po.with_suffix(".mo").stat().st_mtime >= po.stat().st_mtime
        for po in pos
    )


# --- processes ------------------------------------------------------------------------------


def _state(pid: int) -> tuple[str, int] | None:
    """(state letter, process group) of a live process; None when gone (or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if fields[0] in "ZX" else (fields[0], int(fields[2]))


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (a zombie is dead, whoever reaps it)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            state = _state(int(entry.name))
            if state is not None and state[1] == pgid:
                out.append(int(entry.name))
    return out


def stop_group(pgid: int, sig: signal.Signals, seconds: float) -> bool:
    """Signal the group, wait for it to end, kill what is left; True if it ended by itself."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not group_members(pgid):
            return True
        time.sleep(0.1)
    for _ in range(50):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            break
        if not group_members(pgid):
            break
        time.sleep(0.1)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_https(url: str, cafile: Path, seconds: float, pids: dict[str, int]) -> None:
    context = ssl.create_default_context(cafile=str(cafile))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, pid in pids.items():
            if _state(pid) is None:
                raise Failed(f"{name} stopped while starting: see its log")
        try:
            with urlopen(url, timeout=3, context=context) as answer:
                if answer.status == 200:
                    return
        except (URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise Failed(f"no answer at {url} after {seconds:.0f} s")


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise Failed("nginx is not installed (apt-get install nginx)")
    return found


# --- the database ---------------------------------------------------------------------------


def create_database(server: str) -> tuple[str, str]:
    """A scratch PostgreSQL database with a unique name on `server`: (name, DATABASE_URL)."""
    import psycopg

    name = f"duban_prod_{time.strftime('%Y%m%d%H%M%S')}_{secrets.token_hex(3)}"
    with psycopg.connect(server.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, server.rstrip("/") + "/" + name


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server.rstrip("/") + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- commands -------------------------------------------------------------------------------


def local_values(run: Path, ports: dict[str, int], database_url: str) -> dict[str, str]:
    return {
        "ROOT": str(ROOT),
        "ENV_FILE": str(run / "etc" / "duban.env"),
        "DATA_DIR": str(run / "data"),
        "LOG_DIR": str(run / "logs"),
        "NGINX_LOG_DIR": str(run / "logs"),
        "LOG_USER": _user(),
        "LOG_GROUP": _group(),
        "SERVER_NAME": "127.0.0.1",
        "SITE_URL": f"https://127.0.0.1:{ports['https']}",
        "HTTPS_PORT": str(ports["https"]),
        "HTTP_PORT": str(ports["http"]),
        "UPSTREAM": f"127.0.0.1:{ports['web']}",
        "TLS_CERT": str(run / "tls" / "duban.crt"),
        "TLS_KEY": str(run / "tls" / "duban.key"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AUDIT_KEY": secrets.token_hex(32),
        "AUDIT_ANCHOR": str(run / "data" / "audit-anchor.jsonl"),
    }


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _group() -> str:
    import grp

    return grp.getgrgid(os.getgid()).gr_name


def self_signed(tls: Path) -> None:
    """A certificate for 127.0.0.1 and localhost, made now, valid 30 days (the test's CA)."""
    tls.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "30", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(tls / "duban.key"), "-out", str(tls / "duban.crt")],
        check=True, capture_output=True,
    )  # fmt: skip
    (tls / "duban.key").chmod(0o600)


def start(args: argparse.Namespace) -> None:
    run = Path(args.run_dir).resolve()
    if (run / "state.json").exists():
        raise Failed(f"a set-up is recorded in {run}: `scripts/production stop` first")
    try:
        _start(args, run)
    except BaseException:
        if (run / "state.json").exists():
            print("scripts/production: start failed; stopping what was started", file=sys.stderr)
            stop(argparse.Namespace(run_dir=str(run), keep_database=False))
        raise


def _start(args: argparse.Namespace, run: Path) -> None:
    state_file = run / "state.json"
    nginx = nginx_binary()
    began = time.monotonic()
    for sub in ("etc", "run", "logs", "data", "nginx"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    ports = {"https": args.port or free_port(), "http": free_port(), "web": free_port()}
    state: dict[str, object] = {"run": str(run), "ports": ports, "pids": {}}
    if args.sqlite:
        database_url = f"sqlite:///{run / 'data' / 'duban.sqlite3'}"
    else:
        name, database_url = create_database(args.postgres)
        state["database"] = {"server": args.postgres, "name": name}
    state_file.write_text(json.dumps(state, indent=1))  # from here on, `stop` cleans up
    self_signed(run / "tls")
    render_all(run / "etc", local_values(run, ports, database_url))
    (run / "etc" / "nginx.conf").write_text(NGINX_MAIN.format(run=run))
    nginx_args = [nginx, "-p", f"{run}/nginx/", "-c", f"{run}/etc/nginx.conf"]
    checked = subprocess.run([*nginx_args, "-t", "-q"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise Failed(f"nginx -t: {checked.stderr.strip()}")
    # What an administrator runs on install and after each upgrade (docs/deployment.md); the
    # check needs no tables, so it runs beside the migrations.
    step = time.monotonic()
    if not translations_compiled():
        run_once(run, ["compiletranslations"])
    checking = duban_process(run, ["check", "--deploy", "--fail-level", "WARNING"])
    try:
        run_once(run, ["migrate", "--noinput", "-v0"])
    finally:
        checked_status = checking.wait()
    if checked_status != 0:
        raise Failed("`duban check --deploy --fail-level WARNING` found problems (above)")
    print(f"==> migrate, check --deploy: {time.monotonic() - step:.1f} s", flush=True)
    pids: dict[str, int] = {}
    state["pids"] = pids
    pids["duban-web"] = start_unit(
        run, "duban-web", ["--bind", f"127.0.0.1:{ports['web']}", "--workers", "2"]
    )
    state_file.write_text(json.dumps(state, indent=1))  # each pid recorded as soon as it runs
    pids["duban-worker"] = start_unit(run, "duban-worker", [])
    state_file.write_text(json.dumps(state, indent=1))
    with (run / "logs" / "nginx-error.log").open("ab") as log:
        nginx_process = subprocess.Popen(
            nginx_args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    pids["nginx"] = nginx_process.pid
    url = state["url"] = f"https://127.0.0.1:{ports['https']}/"
    state["ca"] = str(run / "tls" / "duban.crt")
    state_file.write_text(json.dumps(state, indent=1))
    wait_https(url + "accounts/login/", run / "tls" / "duban.crt", 60, pids)
    print(f"Duban (production set-up) at {url}  database {database_url}")
    print(
        f"  certificate {state['ca']}, logs {run / 'logs'}, started in {time.monotonic() - began:.1f} s"
    )
    print(
        "  stop with: scripts/production stop"
        + ("" if args.run_dir == DEFAULT_RUN else f" --run-dir {run}")
    )


def stop(args: argparse.Namespace) -> None:
    run = Path(args.run_dir).resolve()
    state_file = run / "state.json"
    if not state_file.exists():
        print(f"nothing recorded in {run}")
        return
    state = json.loads(state_file.read_text())
    for name in ("nginx", "duban-web", "duban-worker"):  # the front first: no new requests
        pid = state.get("pids", {}).get(name)
        if pid is None:
            continue
        sig = signal.SIGQUIT if name == "nginx" else signal.SIGTERM  # nginx: graceful
        if not stop_group(pid, sig, STOP_SECONDS[name]):
            print(f"{name} did not stop in {STOP_SECONDS[name]} s: killed", file=sys.stderr)
        (run / "run" / f"{name}.pid").unlink(missing_ok=True)
    database = state.get("database")
    if database and not args.keep_database:
        drop_database(database["server"], database["name"])
    state_file.unlink()
    print(f"stopped the set-up in {run}")


def daily(args: argparse.Namespace) -> None:
    """Once, what duban-daily.timer starts every morning."""
    run = Path(args.run_dir).resolve()
    service = unit_service(run / "etc" / "systemd" / "duban-daily.service")
    log = Path(service["StandardError"].removeprefix("append:"))
    with log.open("ab") as out:
        done = subprocess.run(
            shlex.split(service["ExecStart"]), cwd=service["WorkingDirectory"],
            env=unit_env(service), stdout=out, stderr=out, check=False,
        )  # fmt: skip
    raise SystemExit(done.returncode)


def duban(args: argparse.Namespace) -> None:
    """Any `duban` command with the set-up's environment (as `sudo -u duban` with /etc/duban.env)."""
    raise SystemExit(run_once(Path(args.run_dir).resolve(), args.command, check=False))


def render_command(args: argparse.Namespace) -> None:
    dest = Path(args.dest)
    render_all(dest, production_values(args))
    print(f"wrote {', '.join(FILES.values())} under {dest} (duban.env has fresh keys: mode 600)")


DEFAULT_RUN = str(ROOT / "var" / "production")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="scripts/production", description=__doc__)
    commands = parser.add_subparsers(dest="what", required=True)
    for name, func in (("start", start), ("stop", stop), ("daily", daily), ("duban", duban)):
        sub = commands.add_parser(name, help=(func.__doc__ or "").split("\n")[0])
        sub.add_argument("--run-dir", default=DEFAULT_RUN, help="pids, logs, data, rendered files")
        sub.set_defaults(func=func)
    commands.choices["start"].add_argument(
        "--sqlite", action="store_true", help="SQLite, not PostgreSQL"
    )
    commands.choices["start"].add_argument(
        "--postgres", default=os.environ.get("DUBAN_PRODUCTION_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="the PostgreSQL server a scratch database is made on",
    )  # fmt: skip
    commands.choices["start"].add_argument("--port", type=int, default=0, help="nginx's HTTPS port")
    commands.choices["stop"].add_argument("--keep-database", action="store_true")
    commands.choices["duban"].add_argument("command", nargs=argparse.REMAINDER)
    sub = commands.add_parser("render", help="write deploy/'s files with an installation's values")
    sub.add_argument("dest")
    sub.add_argument("--server-name", default="duban.gaj.local")
    sub.add_argument("--database-url", default="postgres://duban:CHANGE-ME@127.0.0.1:5432/duban")
    sub.add_argument("--root", default="/opt/duban", help="where the code and .venv are")
    sub.set_defaults(func=render_command)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
