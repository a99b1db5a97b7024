"""The national pages benchmark's databases: `duban national` at a scale, on PostgreSQL.

One database per scale (`duban_national` for 1×, `duban_national_<n>` for the smaller ones),
reused while current: a fingerprint of the migrations, the generator, this file, the scale and
the last month is kept in a one-row table beside Django's; when it differs the schema is
dropped and built afresh in a child process (migrate, then `duban national`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
STATE_TABLE = "bench_national_state"
SOURCES = ("duban/*/migrations/*.py", "duban/demo/national.py", "benchmarks/_pages_national.py")
END = "202611"  # the last month of figures: fixed, so a database stays current across days
TODAY = "2026-12-04"


def database_for(base: str, scale: float) -> str:
    """`duban_national` at 1×, `duban_national_0_1` at 0.1× (same server as `base`)."""
    parts = urlsplit(base)
    name = "duban_national" if scale == 1 else f"duban_national_{str(scale).replace('.', '_')}"
    return urlunsplit(parts._replace(path=f"/{name}"))


def fingerprint(scale: float) -> str:
    digest = hashlib.sha256(f"{scale}:{END}:{TODAY}".encode())
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _connect(url: str, autocommit: bool = True):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=autocommit)


def stored_fingerprint(url: str) -> str | None:
    with _connect(url) as conn:
        row = conn.execute("SELECT to_regclass(%s)", [STATE_TABLE]).fetchone()
        if row is None or row[0] is None:
            return None
        found = conn.execute(f"SELECT fingerprint FROM {STATE_TABLE}").fetchone()
    return None if found is None else str(found[0])


def ensure(url: str, scale: float, env: dict[str, str], rebuild: bool = False) -> str:
    """Make the scale's database current; returns how (reused, or built in N s)."""
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    name = parts.path.lstrip("/")
    with _connect(admin) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    wanted = fingerprint(scale)
    if not rebuild and stored_fingerprint(url) == wanted:
        return "reused (current)"
    with _connect(url) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    child = dict(env, DATABASE_URL=url)
    start = time.perf_counter()
    duban = [sys.executable, "-m", "django"]
    subprocess.run([*duban, "migrate", "-v0"], cwd=ROOT, env=child, check=True)
    out = subprocess.run(
        [*duban, "national", "--scale", str(scale), "--end", END],
        cwd=ROOT, env=child, check=True, capture_output=True, text=True,
    )  # fmt: skip
    with _connect(url) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute(f"CREATE TABLE {STATE_TABLE} (fingerprint text NOT NULL)")
        conn.execute(f"INSERT INTO {STATE_TABLE} VALUES (%s)", [wanted])
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    return f"built in {time.perf_counter() - start:.0f} s: {summary}"


def units(url: str) -> int:
    with _connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM orgs_orgunit").fetchone()
    return int(row[0]) if row else 0


def pages(end: str = END) -> dict[str, list[tuple[str, str]]]:
    """(label, path) of the pages measured, by account: a province office's, a city leader's
    and the national office's (`duban.demo.national`'s accounts; no Django needed here)."""
    ds = "CN-MONTHLY"
    return {
        "cn_p01_office": [
            ("cockpit", "/cockpit/P01/"),
            ("overview", f"/reporting/overview/{ds}/P01/{end}/"),
            ("data set", f"/reporting/datasets/{ds}/"),
            ("tree", "/orgs/"),
            ("unit", "/orgs/units/P01/"),
            ("children", "/orgs/units/P01/children/"),
            ("tasks", "/tasks/"),
            ("to-do", "/todo/"),
            ("units API", "/api/orgs/units?under=P01"),
            ("tree CSV", "/api/orgs/tree.csv?under=P01"),
        ],
        "cn_p01c01_leader": [
            ("cockpit", "/cockpit/P01-C01/"),
            ("overview", f"/reporting/overview/{ds}/P01-C01/{end}/"),
            ("tree", "/orgs/"),
            ("tasks", "/tasks/"),
            ("to-do", "/todo/"),
            ("tree CSV", "/api/orgs/tree.csv"),
        ],
        "cn_office": [
            ("cockpit", "/cockpit/CN/"),
            ("overview", f"/reporting/overview/{ds}/CN/{end}/"),
            ("tree", "/orgs/"),
            ("tree CSV", "/api/orgs/tree.csv"),
        ],
    }


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))
