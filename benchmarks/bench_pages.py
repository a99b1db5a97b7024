"""Load the province cockpit from 20 concurrent clients against the production server, beside a bare page.

Run:  .venv/bin/python -m benchmarks.bench_pages [--cockpit auto] [--bare /accounts/login/]
      [--clients 20] [--seconds 10] [--rounds 3] [--think 0 1000] [--workers N] [--threads 4] [--rebuild] [--profile]
      [--pg postgres://postgres@127.0.0.1:5432/wt_bench]
      [--national [--scales 0.01 0.1 1] [--requests 30]]
      (or `python -m benchmarks pages --cockpit /cockpit/SX/`)

1. The database: the demo on PostgreSQL (its own database, created if missing) with two years of
   the province's (SX) figures — the demo's 2017, and the year before for the same units and
   indicators wherever the demo has none (invented, seeded, approved, written in bulk by the
   system actor through `put_figures`). It is reused while current (`_pages_data.fingerprint`:
   migrations, demo code and data, today's date); `--rebuild` forces a fresh schema.
2. The production server as docs/deployment.md runs it: `gunicorn duban.wsgi`, 2 × cores + 1
   gthread workers of 4 threads (`--workers`, `--threads`; `--threads 1` for sync workers),
   `DUBAN_DEBUG=0`, persistent database connections, bound to 127.0.0.1 on a free port,
   started here, warmed up, and stopped at the end.
3. The load: `wrk` (installed with the set-up's apt helper when missing), `--clients`
   connections on two threads, against the province cockpit `/cockpit/SX/` (the landing page `/`
   on a tree without it; `--cockpit PATH` for another) as `sx_leader`, signed in once through the
   login form, and against a bare page on the same server (the login page, anonymous), taking
   turns for `--rounds` rounds of `--seconds` each. Two think times by default (`--think`):
   none — each client sends its next request on the answer, the server saturated, so p95 is
   mostly time waiting for a worker (about clients ÷ requests/s) — and 1,000 ms on average
   (a random 0–2 s), twenty people each opening a page a second, which measures a page's own
   time under concurrency. Any answer that is not 2xx is an error and is printed. Figures per
   round and the median of the rounds: requests/s, p50, p95, p99 and the ratio
   p95(cockpit) / p95(bare).

Why so: wrk is C and light, so on a 2-core machine the client takes little of the CPU the server
needs (locust's Python clients would compete with the workers); its Lua hooks count the
answers that are not 2xx and print the percentiles. The bare page is the login page fetched
anonymous: the same server, middleware and base template, no data behind it, and it does not
change while the cockpit does. gthread rather than sync workers: see docs/deployment.md.

`--national` measures the synthetic national tree instead (`duban national`, see
duban/demo/national.py): for each of `--scales` (default 0.01, 0.1, 1: about 440, 4,400 and
44,000 units, two years of monthly figures of five station-reported indicators) a database of
its own (`duban_national` for 1×, `duban_national_0_1`, … beside it on the `--pg` server, built
in a child process and kept while current, `_pages_national`), gunicorn on it, and one client
sending `--requests` requests in a row (after three to warm up) to each page of a province
office (cn_p01_office at P01), a city leader (cn_p01c01_leader at P01-C01) and the national
office (cn_office at CN), beside the bare login page: p50 and p95 per page and scale, one
table. Goal, printed: p95 < 300 ms for the province office's and the city leader's pages at
the largest scale.

Goals, printed and never asserted: cockpit p95 under 150 ms and the ratio under 3×. When the
cockpit misses one (or with `--profile`), one cockpit request is profiled in this process
(cProfile, and Django's query log) to say where the time goes.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from benchmarks import _pages_data
from benchmarks._pages_client import Server, get, profile_page, sign_in, timed_get

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = Path(__file__).resolve().parent / "_wrk.lua"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/wt_bench"
USERNAME = "sx_leader"
GOAL_P95 = 0.150
GOAL_RATIO = 3.0
GOAL_NATIONAL_P95 = 0.300


@dataclass
class Load:
    """What one wrk run measured (seconds)."""

    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    max: float
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def ensure_wrk() -> str:
    """wrk from Debian's packages, installed by the set-up's apt helper when missing."""
    found = shutil.which("wrk")
    if found is None:
        script = "source scripts/_setup.sh && apt_install wrk"
        subprocess.run(["bash", "-c", script], cwd=ROOT, check=True)
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is missing and could not be installed (apt-get install wrk)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_environment(pg: str, data_dir: Path) -> dict[str, str]:
    """The production settings, pointed at the benchmark's database; fixed keys (nothing real is
    signed here) so that a reused database's audit chain stays verifiable across runs."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="duban.settings",
        DATABASE_URL=pg,
        DUBAN_DEBUG="0",
        DUBAN_DATA_DIR=str(data_dir),
        DUBAN_SECRET_KEY="bench-pages-" + "s" * 40,
        DUBAN_AUDIT_KEY="bench-pages-audit-" + "a" * 40,
        DUBAN_DB_CONN_MAX_AGE="600",
        DUBAN_ALLOWED_HOSTS="127.0.0.1,testserver",
        DUBAN_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    return env


def run_wrk(
    wrk: str, url: str, cookie: str | None, clients: int, seconds: float, think: int = 0
) -> Load:
    """One run of `clients` connections, each sending its next request on the answer, after a
    random think time of 0–2 × `think` ms when one is given."""
    cmd = [wrk, "-t", "2", "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "30s",
           "-s", str(WRK_SCRIPT), url, "--", str(think)]  # fmt: skip
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    return parse_wrk(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def parse_wrk(out: str) -> Load:
    """The figures `_wrk.lua` prints: one line of figures, one line per answer not 2xx."""
    figures: dict[str, int] = {}
    errors: dict[str, int] = {}
    for line in out.splitlines():
        if line.startswith("DUBAN "):
            figures = {k: int(v) for k, v in (pair.split("=") for pair in line.split()[1:])}
        elif line.startswith("DUBAN_STATUS "):
            _, status, n = line.split()
            errors[f"HTTP {status}"] = int(n)
    if not figures:
        raise SystemExit(f"wrk printed no figures:\n{out}")
    for kind in ("connect", "read", "write", "timeout"):
        if figures[kind]:
            errors[f"socket {kind}"] = figures[kind]
    us = 1e-6
    return Load(figures["requests"], figures["duration_us"] * us, figures["p50_us"] * us,
                figures["p95_us"] * us, figures["p99_us"] * us, figures["max_us"] * us, errors)  # fmt: skip


def median_load(loads: list[Load]) -> Load:
    """The median of each figure over the rounds (errors summed)."""
    errors: dict[str, int] = {}
    for load in loads:
        for k, n in load.errors.items():
            errors[k] = errors.get(k, 0) + n
    med = statistics.median
    seconds = med(x.seconds for x in loads)
    return Load(round(med(x.rate for x in loads) * seconds), seconds, med(x.p50 for x in loads),
                med(x.p95 for x in loads), med(x.p99 for x in loads), max(x.max for x in loads), errors)  # fmt: skip


def row(label: str, think: int, target: str, load: Load) -> str:
    ms = 1000
    errors = ", ".join(f"{k} ×{n}" for k, n in sorted(load.errors.items())) or "0"
    return (f"{label:<7} {think:>6} {target:<8} {load.rate:>7.1f} {load.p50 * ms:>7.1f} {load.p95 * ms:>7.1f} "
            f"{load.p99 * ms:>7.1f} {load.max * ms:>7.1f}  {errors}")  # fmt: skip


def goal(met: bool) -> str:
    return "met" if met else "MISSED"


def prepare_data(pg: str, rebuild: bool) -> tuple[str, dict[str, int]]:
    """Set Django up on the benchmark database and make it current; returns (how, figures by year)."""
    _pages_data.ensure_database(pg)
    import django

    django.setup()
    from django.db import connections

    start = time.perf_counter()
    built, added = _pages_data.prepare(date.today(), rebuild=rebuild)
    how = (
        f"built afresh in {time.perf_counter() - start:.0f} s, {added:,} figures of {_pages_data.YEAR - 1} added"
        if built
        else "reused (current)"
    )
    years = _pages_data.province_figures()
    connections.close_all()
    return how, years


Results = dict[tuple[int, str], list[Load]]


def drain_background_work(env: dict[str, str]) -> None:
    """Run what the first pages queued (a scheme's stored results, recomputed) with `duban
    worker --batch`, as the worker beside the server would, so that the cockpit is measured
    in its steady state; on a tree without background work there is nothing to run."""
    from django.core.management import get_commands

    if "worker" not in get_commands():
        return
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "django", "worker", "--batch"]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    print(f"background work queued by the first pages run by `duban worker --batch` "
          f"in {time.perf_counter() - start:.1f} s")  # fmt: skip


def cockpit_path(base: str, cookie: str) -> str:
    """The province cockpit where this tree has it, else the landing page (`/`)."""
    wanted = f"/cockpit/{_pages_data.PROVINCE}/"
    if get(base + wanted, cookie)[0] == 200:
        return wanted
    print(f"{wanted} does not answer 200 on this tree: measuring the landing page / instead")
    return "/"


def measure(args: argparse.Namespace, wrk: str, server: Server) -> Results:
    """Sign in, check both pages answer 200, warm up, then the rounds, every target and think
    time taking turns within a round."""
    cookie = sign_in(server.base, USERNAME)
    if args.cockpit == "auto":
        args.cockpit = cockpit_path(server.base, cookie)
    targets = {"bare": (args.bare, None), "cockpit": (args.cockpit, cookie)}
    for name, (path, jar) in targets.items():
        times, status, size, title = timed_get(server.base + path, jar, 20)
        print(f"one client, 20 requests in a row: {name:<7} {path:<18} HTTP {status} "
              f"{size / 1024:.1f} KB «{title}» median {statistics.median(times) * 1000:.1f} ms")  # fmt: skip
        if status != 200:
            raise SystemExit(f"{path} answers {status}, not 200: nothing to measure")
    drain_background_work(server.env)
    for path, jar in targets.values():
        run_wrk(wrk, server.base + path, jar, args.clients, args.warmup)
    results: Results = {(t, n): [] for t in args.think for n in targets}
    print(f"{'round':<7} {'think':>6} {'target':<8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'max ms':>7}  errors (any answer not 2xx)")  # fmt: skip
    for r in range(1, args.rounds + 1):
        for think in args.think:
            for name, (path, jar) in targets.items():
                load = run_wrk(wrk, server.base + path, jar, args.clients, args.seconds, think)
                results[(think, name)].append(load)
                print(row(str(r), think, name, load), flush=True)
    return results


def report(results: Results, thinks: list[int]) -> bool:
    """The medians, the ratio and the goals per think time; returns whether the cockpit met
    both goals at every think time."""
    met = True
    for think in thinks:
        bare, cockpit = results[(think, "bare")], results[(think, "cockpit")]
        b, c = median_load(bare), median_load(cockpit)
        print(row("median", think, "bare", b))
        print(row("median", think, "cockpit", c))
        ratio = c.p95 / b.p95
        ratios = [y.p95 / x.p95 for x, y in zip(bare, cockpit, strict=True)]
        spread = f"run by run {min(ratios):.2f}–{max(ratios):.2f}"
        print(f"  think {think} ms: p95 cockpit {c.p95 * 1000:.1f} ms, goal < {GOAL_P95 * 1000:.0f} ms "
              f"{goal(c.p95 < GOAL_P95)}; p95 cockpit / p95 bare {ratio:.2f} ({spread}), "
              f"goal < {GOAL_RATIO:g}× {goal(ratio < GOAL_RATIO)}")  # fmt: skip
        if b.failed or c.failed:
            print(f"  ERRORS: bare {b.failed}, cockpit {c.failed} answers were not 2xx")
        met = met and c.p95 < GOAL_P95 and ratio < GOAL_RATIO and not c.failed
    return met


def parse(argv: list[str] | None) -> argparse.Namespace:
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG, help="the benchmark's own PostgreSQL database")
    parser.add_argument(
        "--cockpit", default="auto", help="its path; auto: /cockpit/SX/ where it answers, else /"
    )
    parser.add_argument(
        "--bare", default="/accounts/login/", help="the bare page, fetched anonymous"
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10, help="per round and target")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds per target before measuring"
    )
    parser.add_argument("--think", type=int, nargs="+", default=[0, 1000],
                        help="think times to run, ms (0: none; 1000: a page a second per client)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2 * cores + 1)
    parser.add_argument(
        "--threads", type=int, default=4, help="per gthread worker; 1: sync workers"
    )
    parser.add_argument("--rebuild", action="store_true", help="a fresh schema even when current")
    parser.add_argument("--profile", action="store_true", help="profile one cockpit request anyway")
    parser.add_argument("--national", action="store_true",
                        help="the synthetic national tree (duban national): p50/p95 of a province "
                             "office's and a city leader's pages at each of --scales")  # fmt: skip
    parser.add_argument("--scales", type=float, nargs="+", default=[0.01, 0.1, 1.0],
                        help="with --national: 1 is about 44,000 units")  # fmt: skip
    parser.add_argument("--requests", type=int, default=30,
                        help="with --national: requests per page, one after another")  # fmt: skip
    return parser.parse_args(argv)


def percentile(times: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of the times."""
    ordered = sorted(times)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def national(args: argparse.Namespace) -> None:
    """Each scale's database made current, then gunicorn on it and, per account and page, one
    client sending `--requests` requests one after another (after three to warm up): the
    page's own time at p50 and p95. A table per page and scale; goal p95 < 300 ms."""
    from benchmarks import _pages_national

    data_dir = Path(tempfile.mkdtemp(prefix="duban-bench-national-"))
    try:
        base_env = server_environment(args.pg, data_dir)
        load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"Duban national pages — gunicorn {args.workers} workers × {args.threads} threads, DEBUG off; "
              f"one client, {args.requests} requests per page in a row; {len(os.sched_getaffinity(0))} cores, "
              f"load average {load_avg} (other work on the machine inflates every figure alike)", flush=True)  # fmt: skip
        results: dict[tuple[str, str, float], tuple[float, float, int, int]] = {}
        units: dict[float, int] = {}
        for scale in args.scales:
            url = _pages_national.database_for(args.pg, scale)
            env = dict(base_env, DATABASE_URL=url)
            how = _pages_national.ensure(url, scale, env, rebuild=args.rebuild)
            units[scale] = _pages_national.units(url)
            print(
                f"scale {scale:g}: {url.rsplit('/', 1)[-1]}, {units[scale]:,} units, {how}",
                flush=True,
            )
            server = Server(
                env, free_port(), data_dir / f"gunicorn-{scale}.log", args.workers, args.threads
            )
            with server:
                timed_get(server.base + args.bare, None, 3)
                times = timed_get(server.base + args.bare, None, args.requests)[0]
                results[("(reference)", "bare", scale)] = (
                    percentile(times, 0.5),
                    percentile(times, 0.95),
                    200,
                    0,
                )
                for username, paths in _pages_national.pages().items():
                    cookie = sign_in(server.base, username)
                    for label, path in paths:
                        timed_get(server.base + path, cookie, 3)
                        times, status, size, _title = timed_get(
                            server.base + path, cookie, args.requests
                        )
                        results[(username, label, scale)] = (percentile(times, 0.5), percentile(times, 0.95),
                                                             status, size)  # fmt: skip
                        print(f"  {username:<17} {label:<10} HTTP {status} {size / 1024:8.1f} KB  "
                              f"p50 {percentile(times, 0.5) * 1000:7.1f} ms  p95 {percentile(times, 0.95) * 1000:7.1f} ms",
                              flush=True)  # fmt: skip
        scales = args.scales
        print(
            f"\n{'account':<17} {'page':<10} "
            + " ".join(f"{f'{units[s]:,} units p50/p95 ms':>26}" for s in scales)
        )
        missed = []
        measured = {"(reference)": [("bare", args.bare)], **_pages_national.pages()}
        for username, paths in measured.items():
            for label, _path in paths:
                cells = []
                for s in scales:
                    p50, p95, status, _size = results[(username, label, s)]
                    cells.append(
                        f"{p50 * 1000:>11.1f} / {p95 * 1000:>7.1f}{'' if status == 200 else f' HTTP {status}':>5}"
                    )
                    if (
                        s == max(scales)
                        and username.endswith(("_office", "_leader"))
                        and username != "cn_office"
                        and (p95 >= GOAL_NATIONAL_P95 or status != 200)
                    ):
                        missed.append(f"{username} {label}")
                print(f"{username:<17} {label:<10} " + " ".join(f"{c:>26}" for c in cells))
        top = max(scales)
        print(f"goal: p95 < {GOAL_NATIONAL_P95 * 1000:.0f} ms for the province office's and the city leader's "
              f"pages at {units[top]:,} units (the national office's shown, not a goal): "
              + (goal(True) if not missed else f"MISSED by {', '.join(missed)}"))  # fmt: skip
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.national:
        national(args)
        return
    wrk = ensure_wrk()
    data_dir = Path(tempfile.mkdtemp(prefix="duban-bench-pages-"))
    try:
        env = server_environment(args.pg, data_dir)
        os.environ.update(env)
        how, years = prepare_data(args.pg, args.rebuild)
        import gunicorn

        server = Server(env, free_port(), data_dir / "gunicorn.log", args.workers, args.threads)

        load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"Duban pages benchmark — gunicorn {gunicorn.__version__}, {server.describe()}, "
            f"DEBUG off; wrk {args.clients} connections, {args.rounds} rounds × {args.seconds:g} s "
            f"per target taking turns; Python {sys.version.split()[0]}; "
            f"{len(os.sched_getaffinity(0))} cores, load average {load_avg}"
        )
        print(f"database {args.pg.rsplit('/', 1)[-1]} (PostgreSQL): {how}; province {_pages_data.PROVINCE} "
              f"figures by year: " + ", ".join(f"{y} {n:,}" for y, n in years.items()))  # fmt: skip
        with server:
            results = measure(args, wrk, server)
        met = report(results, args.think)
        if args.profile or not met:
            profile_page(args.cockpit, USERNAME)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
