"""The pages benchmark's server and client side: gunicorn started and stopped, signing in through
the login form, one page fetched, and one request profiled in-process."""

from __future__ import annotations

import cProfile
import html
import http.client
import io
import pstats
import re
import signal
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode, urlsplit

PASSWORD = "Duban-demo-2017"
ROOT = Path(__file__).resolve().parent.parent


class Server:
    """`gunicorn duban.wsgi` on 127.0.0.1: started on entry once it answers, stopped on exit."""

    def __init__(
        self, env: dict[str, str], port: int, log: Path, workers: int, threads: int = 1
    ) -> None:
        self.env, self.port, self.log = env, port, log
        self.workers, self.threads = workers, threads
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "duban.wsgi", "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), "--timeout", "60", "--graceful-timeout", "5",
                "--log-level", "warning", *self.worker_class()]  # fmt: skip

    def worker_class(self) -> list[str]:
        if self.threads == 1:
            return ["--worker-class", "sync"]
        return ["--worker-class", "gthread", "--threads", str(self.threads), "--keep-alive", "5"]

    def describe(self) -> str:
        if self.threads == 1:
            return f"{self.workers} sync workers"
        return f"{self.workers} gthread workers × {self.threads} threads"

    def __enter__(self) -> Server:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(self.command(), cwd=ROOT, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped at start:\n{self.log.read_text()[-3000:]}")
            try:
                if get(self.base + "/accounts/login/", None)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise SystemExit("gunicorn did not answer within 60 s")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def get(url: str, cookie: str | None) -> tuple[int, bytes, http.client.HTTPResponse]:
    """One GET on a fresh connection (as the sync workers close each one)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request("GET", parts.path or "/", headers={"Cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp
    finally:
        conn.close()


def cookies_of(resp: http.client.HTTPResponse) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in resp.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def sign_in(base: str, username: str) -> str:
    """Log in once through the form (CSRF cookie and token, then the POST); the Cookie header."""
    status, body, resp = get(base + "/accounts/login/", None)
    jar = cookies_of(resp)
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or found is None or "csrftoken" not in jar:
        raise SystemExit(f"the login page answered {status} without a CSRF token")
    form = {"csrfmiddlewaretoken": found.group(1).decode(), "username": username,
            "password": PASSWORD, "next": ""}  # fmt: skip
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request("POST", "/accounts/login/", body=urlencode(form), headers={
            "Cookie": f"csrftoken={jar['csrftoken']}",
            "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    jar.update(cookies_of(resp))
    if resp.status != 302 or "sessionid" not in jar:
        raise SystemExit(f"signing in as {username} answered {resp.status}, no session")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def timed_get(url: str, cookie: str | None, times: int) -> tuple[list[float], int, int, str]:
    """`times` GETs one after another: (seconds each, last status, size, the page's <title>)."""
    seconds: list[float] = []
    status, body = 0, b""
    for _ in range(times):
        start = time.perf_counter()
        status, body, _resp = get(url, cookie)
        seconds.append(time.perf_counter() - start)
    found = re.search(rb"<title>(.*?)</title>", body, re.S)
    title = html.unescape(found.group(1).decode().strip()) if found else ""
    return seconds, status, len(body), " ".join(title.split())


def profile_page(path: str, username: str, top: int = 20) -> None:
    """One request through Django's test client in this process: its queries (count, time, the
    slowest) and the functions that take the time (cProfile, cumulative)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from duban.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    client.get(path)  # templates and caches warm, as in a worker that has served before
    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        profiler.enable()
        response = client.get(path)
        profiler.disable()
        seconds = time.perf_counter() - start
    sql = sum(float(q["time"]) for q in queries.captured_queries)
    print(f"profile of one request {path} (in process, profiler on): HTTP {response.status_code}, "
          f"{seconds * 1000:.1f} ms, {len(queries)} queries taking {sql * 1000:.1f} ms")  # fmt: skip
    for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]:
        print(f"  {float(q['time']) * 1000:6.1f} ms  {q['sql'][:150]}")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"duban|django/(template|db/models)", top)
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
