"""Score a synthetic national scheme with the engine, beside a hand-written DuckDB query.

Run:  .venv/bin/python -m benchmarks.bench_scoring [--units 3000] [--items 150] [--runs 3]
      [--no-db] [--pg postgres://postgres@127.0.0.1:5432/postgres]

The scheme: ``--units`` county bureaus in peer groups of 150 (one "province"
each), ``--items`` cumulative items cycling through seven rules — attainment
(cap 1), shortfall (per point), deduction, bonus (capped), rank (per place),
relative-to-best and steps (two bands) — and one whole figure per unit, item
and month for the 12 months of 2017 (3,000 × 150 × 12 = 5.4 million values).

The reference is one DuckDB SQL statement over the same values (a table in
DuckDB's memory) computing the year-to-date sums, item scores, totals and
total ranks from the raw monthly values. Every answer below is compared with
it: every item score and total within 0.000001 (DuckDB works in doubles; the
engine in exact decimals) and every rank exactly (the query ranks on
``ROUND(total + 1e-9, 2)``: an exact 18.245 comes out of doubles as
18.244999999999997, which would round down where the engine rounds half up).

Printed, in this order (medians of ``--runs``; goals printed, never asserted):
- the engine alone: year-to-date sums handed in, scores out, and its peak
  memory; the same for one province (150 units);
- unless ``--no-db``, "full recomputation" through Django on a scratch
  database per database engine. A first child process loads the figures (raw
  insert, not timed against anything), builds the stored year-to-date totals
  with the app's own ``year_to_date.rebuild`` (timed: it is what the migration
  does), saves the scheme through ``services.save_engine_scheme`` and waits for
  the writes to reach the disk. A second, fresh process — as a server process
  would be — then times ``scoring.score(scheme, "2017")``, the very call the
  pages and the API make (scheme rows to engine scheme, the values query, the
  stored totals, the computation), taking turns with the DuckDB query in that
  same process, and checks both agree. This runs for the national scheme and
  for one province, on SQLite and, with ``--pg``, PostgreSQL. Goals: within 2×
  of DuckDB; a province under 0.2 s.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

KINDS = ("attainment", "shortfall", "deduction", "bonus", "rank", "relative_to_best", "steps")
GROUP = 150
MONTHS = [f"2017{m:02d}" for m in range(1, 13)]


def figure(unit: int, item: int, month: int) -> int:
    """The same invented figure in Python and in SQL."""
    return (unit * 7919 + item * 104729 + month * 1299709) % 97


def item_spec(i: int) -> dict[str, Any]:
    kind = KINDS[i % len(KINDS)]
    points = Decimal(5 + i % 6)
    spec: dict[str, Any] = {"kind": kind, "points": points, "p1": Decimal(0), "p2": Decimal(0),
                            "target": None}  # fmt: skip
    if kind == "attainment":
        spec["target"] = Decimal(600)
    elif kind == "shortfall":
        spec["target"], spec["p1"] = Decimal(600), Decimal("0.2")
    elif kind in ("deduction", "bonus"):
        spec["p1"] = Decimal("0.01")
    elif kind == "rank":
        spec["p1"] = points / 200
    elif kind == "steps":
        spec["p1"], spec["p2"] = Decimal(400), Decimal(600)
    return spec


def build_scheme(units: int, items: int) -> Any:
    from duban.evaluation import engine
    from duban.evaluation.engine import Text

    specs = [item_spec(i) for i in range(items)]
    unit_rows = tuple(engine.Unit(f"u{u}", Text(f"单位{u}"), "county") for u in range(units))
    groups = tuple(
        engine.PeerGroup(f"g{g}", Text(f"省{g}"), tuple(f"u{u}" for u in range(g * GROUP, min(units, (g + 1) * GROUP))))
        for g in range((units + GROUP - 1) // GROUP)
    )  # fmt: skip
    cats = tuple(
        engine.Category(k, Text(k), sum((s["points"] for s in specs if s["kind"] == k), Decimal(0)))
        for k in KINDS
    )
    built_items = []
    for i, s in enumerate(specs):
        rule: dict[str, Any] = {"kind": s["kind"]}
        if s["kind"] == "attainment":
            rule["cap"] = Decimal(1)
        elif s["kind"] == "shortfall":
            rule["per_point"] = s["p1"]
        elif s["kind"] in ("deduction", "bonus"):
            rule["per_occurrence"] = s["p1"]
        elif s["kind"] == "rank":
            rule["per_place"] = s["p1"]
        elif s["kind"] == "steps":
            rule["bands"] = [{"at_least": s["p1"], "points": s["points"] / 2},
                             {"at_least": s["p2"], "points": s["points"]}]  # fmt: skip
        built_items.append(
            engine.Item(
                code=f"i{i}",
                category=s["kind"],
                indicator=f"i{i}",
                name=Text(f"指标{i}"),
                points=s["points"],
                rule=engine.rule_from_dict(rule),
                cumulative=True,
                target=s["target"],
            )
        )
    return engine.Scheme(code="national", name=Text("全国"), year=2017, issuer="root",
                         units=unit_rows, groups=groups, categories=cats, items=tuple(built_items))  # fmt: skip


def build_values(units: int, items: int) -> dict[tuple[str, str, str], Decimal | None]:
    digits = [Decimal(n) for n in range(97)]
    values: dict[tuple[str, str, str], Decimal | None] = {}
    for i in range(items):
        code = f"i{i}"
        for u in range(units):
            unit = f"u{u}"
            for m, month in enumerate(MONTHS, start=1):
                values[(code, unit, month)] = digits[figure(u, i, m)]
    return values


SQL = """
WITH ytd AS (
    SELECT item, unit, SUM(value) AS x FROM v GROUP BY item, unit
), j AS (
    SELECT y.item, y.unit, u.grp, y.x, i.kind, i.points, i.p1, i.p2, i.target
    FROM ytd y JOIN items i ON i.item = y.item JOIN units u ON u.unit = y.unit
), r AS (
    SELECT *, RANK() OVER (PARTITION BY item, grp ORDER BY x DESC) AS place,
           MAX(x) OVER (PARTITION BY item, grp) AS best
    FROM j
), s AS (
    SELECT item, unit, grp, CASE kind
        WHEN 'attainment' THEN points * LEAST(x / target, 1)
        WHEN 'shortfall' THEN CASE WHEN x >= target THEN points
                                   ELSE GREATEST(points - (100 - x * 100 / target) * p1, 0) END
        WHEN 'deduction' THEN GREATEST(points - p1 * x, 0)
        WHEN 'bonus' THEN LEAST(points, p1 * x)
        WHEN 'rank' THEN GREATEST(points - (place - 1) * p1, 0)
        WHEN 'relative_to_best' THEN CASE WHEN best > 0 THEN points * x / best ELSE 0 END
        WHEN 'steps' THEN CASE WHEN x >= p2 THEN points WHEN x >= p1 THEN points / 2 ELSE 0 END
    END AS score
    FROM r
), t AS (
    SELECT unit, grp, SUM(score) AS total FROM s GROUP BY unit, grp
)
SELECT 'total' AS what, unit, NULL AS item, total AS score,
       RANK() OVER (PARTITION BY grp ORDER BY ROUND(total + 1e-9, 2) DESC) AS rank
FROM t
UNION ALL
SELECT 'item', unit, item, score, NULL FROM s
"""


def duck_setup(units: int, items: int) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads TO {os.cpu_count() or 1}")
    con.execute(
        f"""CREATE TABLE v AS SELECT i AS item, u AS unit, m AS month,
            CAST(((u * 7919 + i * 104729 + m * 1299709) % 97) AS DOUBLE) AS value
            FROM range({items}) t1(i), range({units}) t2(u), range(1, 13) t3(m)"""
    )
    con.execute(
        f"CREATE TABLE units AS SELECT u AS unit, u // {GROUP} AS grp FROM range({units}) t(u)"
    )
    con.execute("CREATE TABLE items (item INTEGER, kind VARCHAR, points DOUBLE, p1 DOUBLE, p2 DOUBLE, "
                "target DOUBLE)")  # fmt: skip
    rows = []
    for i in range(items):
        s = item_spec(i)
        rows.append((i, s["kind"], float(s["points"]), float(s["p1"]), float(s["p2"]),
                     None if s["target"] is None else float(s["target"])))  # fmt: skip
    con.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)", rows)
    return con


def check(result: Any, rows: list[tuple[Any, ...]]) -> int:
    """Mismatches between the engine and DuckDB (item scores, totals, total ranks)."""
    bad = 0
    for what, unit, item, value, rank in rows:
        u = result.units[f"u{unit}"]
        if what == "total":
            if abs(float(u.total) - value) > 1e-6 or u.rank != rank:
                bad += 1
        elif abs(float(u.items[f"i{item}"].score) - value) > 1e-6:
            bad += 1
    return bad


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


Sums = tuple[dict[str, dict[str, Decimal]], dict[str, dict[str, int]]]  # (totals, months given)


def python_sums(values: dict[tuple[str, str, str], Decimal | None]) -> Sums:
    """The year-to-date sums and months given, computed from the monthly mapping (engine
    alone: no database), in the columns the app hands the engine."""
    totals: dict[str, dict[str, Decimal]] = {}
    given: dict[str, dict[str, int]] = {}
    for (code, unit, _), value in values.items():
        if value is None:
            continue
        of_totals, of_given = totals.setdefault(code, {}), given.setdefault(code, {})
        of_totals[unit] = of_totals.get(unit, Decimal(0)) + value
        of_given[unit] = of_given.get(unit, 0) + 1
    return totals, given


def pg_connect(url: str, dbname: str) -> Any:
    import psycopg

    base = url.rsplit("/", 1)[0]
    return psycopg.connect(f"{base}/{dbname}".replace("postgres://", "postgresql://", 1),
                           autocommit=True)  # fmt: skip


def load_figures(units: int, items: int) -> None:
    """The monthly figures straight into ``reporting_datavalue`` (approved), as fast as the
    database takes them: the benchmark times scoring, not loading."""
    from django.db import connection

    from duban.indicators.models import Indicator
    from duban.orgs.models import OrgUnit

    unit_ids = dict(OrgUnit.objects.exclude(code="root").values_list("code", "pk"))
    ind_ids = dict(Indicator.objects.values_list("code", "pk"))
    uid = [unit_ids[f"u{u}"] for u in range(units)]
    iid = [ind_ids[f"i{i}"] for i in range(items)]
    stamp = "2017-12-31 00:00:00+00:00"
    rows = ((uid[u], iid[i], month, figure(u, i, m), "", "approved", stamp, 0)
            for i in range(items) for u in range(units) for m, month in enumerate(MONTHS, start=1))  # fmt: skip
    columns = "unit_id, indicator_id, period, value, comment, state, updated_at, version"
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        with raw.cursor().copy(f"COPY reporting_datavalue ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO reporting_datavalue ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                cast(Any, rows),  # a generator: 5.4 M rows are never held at once
            )


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def settle() -> None:
    """Let the writes of loading and building reach the disk before anything is timed: the
    kernel (and PostgreSQL's checkpointer) writing them back during a timed run cost DuckDB,
    which runs on both cores, up to twice its time."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    os.sync()
    time.sleep(1)


def _child_setup() -> Callable[..., None]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "duban.settings"
    import django

    django.setup()

    def out(label: str, seconds: float, note: str = "") -> None:
        print(f"{label}\t{seconds}\t{note}", flush=True)

    return out


def db_build(units: int, items: int) -> None:
    """Child process on the (empty) database DATABASE_URL names: load the figures, build the
    stored totals, save the scheme. Prints ``label<TAB>seconds<TAB>note`` lines."""
    out = _child_setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from duban.evaluation import services
    from duban.indicators.models import Indicator
    from duban.orgs.models import OrgUnit
    from duban.orgs.policy import SYSTEM
    from duban.reporting import year_to_date

    root = OrgUnit.objects.create(code="root", name_zh="部", level="province", kind="territorial")
    OrgUnit.objects.bulk_create([OrgUnit(code=f"u{u}", name_zh=f"单位{u}", level="county", kind="territorial",
                                         parent=root, path=f"/root/u{u}/", depth=1) for u in range(units)],
                                batch_size=1000)  # fmt: skip
    Indicator.objects.bulk_create([Indicator(code=f"i{i}", name_zh=f"指标{i}", value_type="integer", issuer=root)
                                   for i in range(items)])  # fmt: skip
    start = time.perf_counter()
    with transaction.atomic():
        load_figures(units, items)
    count = units * items * len(MONTHS)
    out(f"load {count:,} approved monthly figures (raw insert)", time.perf_counter() - start)
    start = time.perf_counter()
    with transaction.atomic():
        written = year_to_date.rebuild()
    out(f"build the stored year-to-date totals ({written:,} rows)", time.perf_counter() - start)
    analyze()
    services.save_engine_scheme(build_scheme(units, items), user=SYSTEM)
    settle()


def db_time(units: int, items: int, runs: int) -> None:
    """A fresh child process on the database ``db_build`` filled, as a server process that
    scores would be: DuckDB and ``scoring.score`` take turns, then the figures around them.
    (Timed in the process that had just loaded 5.4 M rows, DuckDB ran up to 1.6× slower.)"""
    out = _child_setup()
    from django.db import connection
    from django.db.models import Count, Sum

    from duban.evaluation.engine import collector_paused
    from duban.evaluation.models import Scheme
    from duban.evaluation.scoring import score
    from duban.indicators.models import Indicator
    from duban.orgs.models import OrgUnit
    from duban.reporting import year_to_date
    from duban.reporting.models import DataValue

    scheme = Scheme.objects.get(code="national")
    con = duck_setup(units, items)
    # DuckDB and scoring.score take turns, so that both meet the same machine: a query on
    # both cores suffers more than one Python thread from anything else running.
    duck_times: list[float] = []
    full_times: list[float] = []
    rows: list[tuple[Any, ...]] = []
    scored: Any = None
    for _ in range(runs):
        start = time.perf_counter()
        rows = con.execute(SQL).fetchall()
        duck_times.append(time.perf_counter() - start)
        scored = None
        gc.collect()
        start = time.perf_counter()
        scored = score(scheme, "2017", with_previous=False)
        full_times.append(time.perf_counter() - start)
    duck_s, full_s = statistics.median(duck_times), statistics.median(full_times)
    ratios = sorted(f / d for f, d in zip(full_times, duck_times, strict=True))
    out("DuckDB reference query, same run (raw monthly values in)", duck_s,
        f"median of {runs}, taking turns with the next line")  # fmt: skip
    bad = check(scored.result, rows)
    out("full recomputation through Django (scoring.score)", full_s,
        f"median of {runs}; ratio {full_s / duck_s:.2f} to DuckDB "
        f"(run by run {ratios[0]:.2f}–{ratios[-1]:.2f})")  # fmt: skip
    scored = None
    unit_ids = set(OrgUnit.objects.exclude(code="root").values_list("pk", flat=True))
    indicators = {pk: pk for pk in Indicator.objects.values_list("pk", flat=True)}

    def read() -> Any:
        with collector_paused():  # as scoring.score reads them
            return year_to_date.sum_columns(unit_ids, indicators, tuple(MONTHS))

    read_s, _ = median_time(read, runs)
    out("  of which: read the stored year-to-date totals", read_s)
    grouped = (
        DataValue.objects.filter(state="approved", period__in=MONTHS)
        .order_by()
        .values_list("indicator_id", "unit_id")
        .annotate(total=Sum("value"), given=Count("value"))
    )
    raw_s, _ = median_time(lambda: len(list(grouped.iterator(chunk_size=20000))), 1)
    out("  for comparison: SUM … GROUP BY over the raw monthly rows", raw_s, "1 run")
    gc.collect()
    tracemalloc.start()
    score(scheme, "2017", with_previous=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out("  peak memory of one recomputation (tracemalloc, MiB)", peak / 2**20)
    out("agreement with DuckDB (item scores, totals, ranks)", float(bad),
        f"all {len(rows):,} agree" if not bad else f"{bad} MISMATCHES")  # fmt: skip
    connection.close()


def db_run(url: str | None, units: int, items: int, runs: int) -> list[tuple[str, float, str]]:
    """Run ``db_build`` and then ``db_time``, each in its own process, on a fresh SQLite file
    (url None) or a scratch PostgreSQL database."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    env = {**os.environ, "DUBAN_DATA_DIR": str(workdir / "data")}
    scratch = f"bench_scoring_{units}"
    if url is None:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    else:
        with pg_connect(url, "postgres") as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {scratch}")
            admin.execute(f"CREATE DATABASE {scratch}")
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{scratch}"
    lines = []
    try:
        for phase in ("build", "time"):
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_scoring", f"--db-{phase}",
                 "--units", str(units), "--items", str(items), "--runs", str(runs)],
                env=env, check=False, capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode:
                raise SystemExit(
                    f"the {units}-unit {phase} child failed:\n{done.stdout}\n{done.stderr}"
                )
            lines += done.stdout.splitlines()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if url is not None:
            with pg_connect(url, "postgres") as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {scratch}")
    found = []
    for text in lines:
        if text.count("\t") == 2:
            label, seconds, note = text.split("\t")
            found.append((label, float(seconds), note))
    return found


def line(label: str, seconds: float, note: str = "") -> None:
    print(f"{label:<58} {seconds:8.3f} s  {note}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--items", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-db", action="store_true")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL"),
                        help="a PostgreSQL URL (postgres://user@host:port/db) for the PostgreSQL figures")  # fmt: skip
    parser.add_argument("--db-build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db-time", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.db_build:  # child process: DATABASE_URL names an empty database
        db_build(args.units, args.items)
        return
    if args.db_time:  # child process: DATABASE_URL names the database just built
        db_time(args.units, args.items, args.runs)
        return
    from duban.evaluation.engine import YearToDate, compute_scores, year_to_date_months

    runs = args.runs
    print(
        f"synthetic scheme: {args.units} units, {args.items} items ({', '.join(KINDS)}), 12 months"
    )
    scheme = build_scheme(args.units, args.items)
    values = build_values(args.units, args.items)
    count = len(values)
    print(f"monthly values: {count:,}")
    months = year_to_date_months(scheme, "2017")
    codes = frozenset(f"i{i}" for i in range(args.items))

    def scores(sums: Sums) -> Any:
        return compute_scores(scheme, {}, "2017", year_to_date=YearToDate(months, codes, *sums))

    con = duck_setup(args.units, args.items)
    duck_s, rows = median_time(lambda: con.execute(SQL).fetchall(), runs)
    line("DuckDB reference query (raw monthly values in)", duck_s,
         f"median of {runs}, {os.cpu_count()} threads")  # fmt: skip

    sums = python_sums(values)
    # The app never holds the monthly values in memory: free them before timing.
    del values
    gc.collect()
    engine_s, result = median_time(lambda: scores(sums), runs)
    bad = check(result, rows)
    line("engine alone: year-to-date sums in, scores out", engine_s,
         f"ratio {engine_s / duck_s:.2f}")  # fmt: skip
    del result
    gc.collect()
    tracemalloc.start()
    scores(sums)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"{'engine peak memory (tracemalloc; sums mapping excluded)':<58} {peak / 2**20:8.1f} MiB"
    )
    agree = (
        f"all {len(rows):,} item scores, totals and ranks agree" if not bad else f"{bad} MISMATCHES"
    )
    print(f"{'agreement (engine alone against DuckDB)':<58} {agree}")

    province = build_scheme(GROUP, args.items)
    inside = {f"u{u}" for u in range(GROUP)}
    totals, given = sums
    province_sums = YearToDate(
        months,
        codes,
        {code: {u: v for u, v in of.items() if u in inside} for code, of in totals.items()},
        {code: {u: n for u, n in of.items() if u in inside} for code, of in given.items()},
    )
    prov_s, _ = median_time(
        lambda: compute_scores(province, {}, "2017", year_to_date=province_sums),
        max(runs, 5),
    )
    line(f"province ({GROUP} units), engine alone (sums in)", prov_s, "goal: under 0.2 s")
    if args.no_db:
        return
    targets: list[tuple[str, str | None]] = [("SQLite", None)]
    if args.pg:
        targets.append(("PostgreSQL", args.pg))
    for name, url in targets:
        for size, label, db_runs in (
            (args.units, "national", runs),
            (GROUP, "province", max(runs, 5)),
        ):
            print(f"-- {label} ({size} units) through Django on {name} --", flush=True)
            for text, seconds, note in db_run(url, size, args.items, db_runs):
                if text.startswith("agreement"):
                    print(f"{text:<58} {note}")
                    bad += note.endswith("MISMATCHES")
                elif "MiB" in text:
                    print(f"{text:<58} {seconds:8.1f}")
                else:
                    if label == "province" and text.startswith("full"):
                        note += "; goal: under 0.2 s"
                    elif text.startswith("full"):
                        note += " (goal: at most 2)"
                    line(text, seconds, note)
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
