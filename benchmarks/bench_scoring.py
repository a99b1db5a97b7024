"""Score a synthetic national scheme with the engine, beside a hand-written DuckDB query.

Run:  .venv/bin/python -m benchmarks.bench_scoring [--units 3000] [--items 150] [--runs 3] [--no-db]

The scheme: ``--units`` county bureaus in peer groups of 150 (one "province"
each), ``--items`` cumulative items cycling through seven rules — attainment
(cap 1), shortfall (per point), deduction, bonus (capped), rank (per place),
relative-to-best and steps (two bands) — and one whole figure per unit, item
and month for the 12 months of 2017 (3,000 × 150 × 12 = 5.4 million values).
"Full recomputation" is what the Django app does for the year to date: the
database sums each unit's and item's months (one ``SUM(value), COUNT(value)
… GROUP BY indicator, unit`` over the raw monthly rows, as ``values.py`` asks
it), then ``compute_scores`` takes those sums (``engine.YearToDate``) and
works out every item score, category and total, rank, item place basis and
grade. The national figures are timed on SQLite (a file) and, when
``--pg`` names a server, PostgreSQL: the 5.4 million monthly rows are loaded
into a table shaped like ``reporting_datavalue`` (same index) before timing,
and the timed part is the grouped query, fetching its 450,000 rows into
Decimals, and the computation. The engine alone (sums in, scores out) and the
old path (the engine summing the monthly values itself in Python) are printed
too.

The reference is one DuckDB SQL statement over the same values (a table
already in DuckDB's memory) computing the same year-to-date sums, item scores,
totals and total ranks. Both answers are compared: every item score and total
must agree within 0.000001 (DuckDB works in doubles; the engine in exact
decimals) and every rank exactly. The script prints medians of ``--runs`` runs, the
ratios, the engine's peak memory (tracemalloc, sums excluded), the time of
one province (150 units), and — unless ``--no-db`` — the database path for one
province through Django (``scoring.score``: the values query, the grouped
year-to-date query and the computation, as the pages do it) on SQLite and,
with ``--pg``, PostgreSQL (a scratch database created and dropped). Goals
(printed, never asserted): within 2× of DuckDB; a province under 0.2 s.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

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
       RANK() OVER (PARTITION BY grp ORDER BY ROUND(total, 2) DESC) AS rank
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


Sums = dict[tuple[str, str], tuple[Decimal | None, int]]
DONE = ("approved", "locked")
TABLE = """CREATE TABLE dv (id INTEGER PRIMARY KEY, unit_id INTEGER NOT NULL,
    indicator_id INTEGER NOT NULL, period VARCHAR(16) NOT NULL, value DECIMAL(20, 4),
    comment VARCHAR(500) NOT NULL, state VARCHAR(16) NOT NULL)"""
INDEXES = (
    "CREATE UNIQUE INDEX dv_uip ON dv (unit_id, indicator_id, period)",
    "CREATE INDEX dv_ip ON dv (indicator_id, period)",
    "CREATE INDEX dv_pu ON dv (period, unit_id)",
)


def ytd_sql(units: int, items: int, mark: str) -> tuple[str, list[Any]]:
    """The grouped query values.py has Django ask (ids, not joined codes)."""
    params: list[Any] = [*range(units), *DONE, *range(items), *MONTHS]

    def marks(n: int) -> str:
        return ", ".join([mark] * n)

    sql = (
        f"SELECT indicator_id, unit_id, SUM(value), COUNT(value) FROM dv "
        f"WHERE unit_id IN ({marks(units)}) AND state IN ({marks(2)}) "
        f"AND indicator_id IN ({marks(items)}) AND period IN ({marks(12)}) "
        f"GROUP BY indicator_id, unit_id"
    )
    return sql, params


def monthly_rows(units: int, items: int) -> Any:
    for i in range(items):
        for u in range(units):
            for m, month in enumerate(MONTHS, start=1):
                yield (u, i, month, figure(u, i, m), "", "approved")


def sqlite_setup(units: int, items: int) -> sqlite3.Connection:
    path = Path(tempfile.mkdtemp(prefix="bench-scoring-")) / "national.sqlite3"
    con = sqlite3.connect(path)
    con.execute(TABLE)
    con.executemany(
        "INSERT INTO dv (unit_id, indicator_id, period, value, comment, state) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        monthly_rows(units, items),
    )
    for index in INDEXES:
        con.execute(index)
    con.commit()
    con.execute("ANALYZE")
    return con


def sqlite_sums(con: sqlite3.Connection, units: int, items: int) -> Sums:
    sql, params = ytd_sql(units, items, "?")
    codes, names = [f"i{i}" for i in range(items)], [f"u{u}" for u in range(units)]
    # As Django's SQLite backend converts a decimal column: integers exactly, floats at 15 digits.
    return {
        (codes[i], names[u]): (None if t is None else Decimal(t) if isinstance(t, int)
                               else Decimal(repr(t)), n)
        for i, u, t, n in con.execute(sql, params)
    }  # fmt: skip


def pg_connect(url: str, dbname: str) -> Any:
    import psycopg

    base = url.rsplit("/", 1)[0]
    return psycopg.connect(f"{base}/{dbname}".replace("postgres://", "postgresql://", 1),
                           autocommit=True)  # fmt: skip


def pg_setup(url: str, units: int, items: int) -> Any:
    with pg_connect(url, "postgres") as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_scoring_national")
        admin.execute("CREATE DATABASE bench_scoring_national")
    con = pg_connect(url, "bench_scoring_national")
    con.execute(TABLE.replace("id INTEGER PRIMARY KEY", "id BIGSERIAL PRIMARY KEY")
                .replace("DECIMAL(20, 4)", "NUMERIC(20, 4)"))  # fmt: skip
    with con.cursor().copy(
        "COPY dv (unit_id, indicator_id, period, value, comment, state) FROM STDIN"
    ) as copy:
        for row in monthly_rows(units, items):
            copy.write_row(row)
    for index in INDEXES:
        con.execute(index)
    con.execute("VACUUM ANALYZE dv")
    return con


def pg_sums(con: Any, units: int, items: int) -> Sums:
    sql, params = ytd_sql(units, items, "%s")
    codes, names = [f"i{i}" for i in range(items)], [f"u{u}" for u in range(units)]
    return {(codes[i], names[u]): (t, n) for i, u, t, n in con.execute(sql, params)}


def pg_drop(url: str, con: Any) -> None:
    con.close()
    with pg_connect(url, "postgres") as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_scoring_national")


def python_sums(values: dict[tuple[str, str, str], Decimal | None]) -> Sums:
    """The sums computed from the monthly mapping (engine alone: no database)."""
    sums: Sums = {}
    for (code, unit, _), value in values.items():
        if value is None:
            continue
        total, given = sums.get((code, unit), (Decimal(0), 0))
        sums[(code, unit)] = (total + value, given + 1)
    return sums


def db_province(items: int, runs: int) -> float:
    """One province through Django on the database DATABASE_URL names (already set)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "duban.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from duban.evaluation import services
    from duban.evaluation.scoring import score
    from duban.indicators.models import Indicator
    from duban.orgs.models import OrgUnit
    from duban.reporting.models import DataValue

    root = OrgUnit.objects.create(code="root", name_zh="省厅", level="province", kind="territorial")
    OrgUnit.objects.bulk_create([OrgUnit(code=f"u{u}", name_zh=f"单位{u}", level="county", kind="territorial",
                                         parent=root, path=f"/root/u{u}/", depth=1) for u in range(GROUP)])  # fmt: skip
    Indicator.objects.bulk_create([Indicator(code=f"i{i}", name_zh=f"指标{i}", value_type="integer", issuer=root)
                                   for i in range(items)])  # fmt: skip
    units = {u.code: u for u in OrgUnit.objects.exclude(code="root")}
    inds = {i.code: i for i in Indicator.objects.all()}
    now = timezone.now()
    DataValue.objects.bulk_create(
        (DataValue(unit=units[f"u{u}"], indicator=inds[f"i{i}"], period=month, value=figure(u, i, m),
                   state="approved", updated_at=now)
         for i in range(items) for u in range(GROUP) for m, month in enumerate(MONTHS, start=1)),
        batch_size=5000,
    )  # fmt: skip
    if "postgres" in os.environ["DATABASE_URL"]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE reporting_datavalue")
    scheme = services.save_engine_scheme(build_scheme(GROUP, items), user=None)
    seconds, scored = median_time(lambda: score(scheme, "2017", with_previous=False), runs)
    # the same scores as the engine summing the months itself
    values, _ = scored.source.for_period(scored.result.period)
    from duban.evaluation.engine import compute_scores

    slow = compute_scores(scored.engine, values, "2017")
    for code, unit in scored.result.units.items():
        other = slow.units[code]
        assert unit.total == other.total and unit.rank == other.rank
        assert all(r.flags == other.items[c].flags for c, r in unit.items.items())
    return seconds


def province_subprocess(url: str, items: int, runs: int) -> float:
    env = {**os.environ, "DATABASE_URL": url}
    workdir = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    env["DUBAN_DATA_DIR"] = str(workdir / "data")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_scoring", "--province-db",
             "--items", str(items), "--runs", str(runs)],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return float(out.stdout.strip().splitlines()[-1])


def province_on(url: str | None, items: int, runs: int) -> float:
    """SQLite (url None) in a temporary file, or a scratch PostgreSQL database."""
    if url is None:
        path = Path(tempfile.mkdtemp(prefix="bench-scoring-")) / "db.sqlite3"
        try:
            return province_subprocess(f"sqlite:///{path}", items, runs)
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)
    with pg_connect(url, "postgres") as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_scoring_province")
        admin.execute("CREATE DATABASE bench_scoring_province")
    try:
        return province_subprocess(url.rsplit("/", 1)[0] + "/bench_scoring_province", items, runs)
    finally:
        with pg_connect(url, "postgres") as admin:
            admin.execute("DROP DATABASE IF EXISTS bench_scoring_province")


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
    parser.add_argument("--province-db", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.province_db:  # child process: DATABASE_URL is set
        print(db_province(args.items, args.runs))
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
        return compute_scores(scheme, {}, "2017", year_to_date=YearToDate(months, codes, sums))

    con = duck_setup(args.units, args.items)
    duck_s, rows = median_time(lambda: con.execute(SQL).fetchall(), runs)
    line("DuckDB reference query (raw monthly values in)", duck_s,
         f"median of {runs}, {os.cpu_count()} threads")  # fmt: skip

    sums = python_sums(values)
    engine_s, result = median_time(lambda: scores(sums), runs)
    bad = check(result, rows)
    line("engine alone: year-to-date sums in, scores out", engine_s,
         f"ratio {engine_s / duck_s:.2f}")  # fmt: skip
    tracemalloc.start()
    scores(sums)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"{'engine peak memory (tracemalloc; sums mapping excluded)':<58} {peak / 2**20:8.1f} MiB"
    )

    old_s, old_result = median_time(partial(compute_scores, scheme, values, "2017"), 1)
    bad += check(old_result, rows)
    line("old path: engine summing the 12 months in Python", old_s,
         f"1 run, ratio {old_s / duck_s:.2f}")  # fmt: skip
    # The app never holds the monthly values in memory: free them before timing the
    # database paths, so the collector does not rescan 5.4 million entries there.
    del values, old_result
    gc.collect()

    lite = sqlite_setup(args.units, args.items)
    lite_path = lite.execute("PRAGMA database_list").fetchone()[2]
    agg_s, lite_sums = median_time(lambda: sqlite_sums(lite, args.units, args.items), runs)
    full_s, lite_result = median_time(
        lambda: scores(sqlite_sums(lite, args.units, args.items)), runs
    )
    bad += check(lite_result, rows) + (lite_sums != sums)
    line(f"SQLite: grouped year-to-date query ({count:,} rows -> {len(sums):,})", agg_s)
    line("full recomputation, SQLite: grouped query + engine", full_s,
         f"ratio {full_s / duck_s:.2f} (goal: at most 2)")  # fmt: skip
    lite.close()
    shutil.rmtree(Path(lite_path).parent, ignore_errors=True)
    if args.pg:
        pg = pg_setup(args.pg, args.units, args.items)
        try:
            agg_s, pg_sums_ = median_time(lambda: pg_sums(pg, args.units, args.items), runs)
            full_s, pg_result = median_time(
                lambda: scores(pg_sums(pg, args.units, args.items)), runs
            )
            bad += check(pg_result, rows) + (pg_sums_ != sums)
        finally:
            pg_drop(args.pg, pg)
        line(f"PostgreSQL: grouped year-to-date query ({count:,} rows -> {len(sums):,})", agg_s)
        line("full recomputation, PostgreSQL: grouped query + engine", full_s,
             f"ratio {full_s / duck_s:.2f} (goal: at most 2)")  # fmt: skip

    agree = (
        f"all {len(rows):,} item scores, totals and ranks agree" if not bad else f"{bad} MISMATCHES"
    )
    print(f"{'agreement (every path above against DuckDB)':<58} {agree}")

    province = build_scheme(GROUP, args.items)
    psums = {k: v for k, v in sums.items() if int(k[1][1:]) < GROUP}
    prov_s, _ = median_time(
        lambda: compute_scores(province, {}, "2017", year_to_date=YearToDate(months, codes, psums)),
        max(runs, 5),
    )
    line(f"province ({GROUP} units), engine alone (sums in)", prov_s, "goal: under 0.2 s")
    if not args.no_db:
        db_runs = max(runs, 5)
        lite_s = province_on(None, args.items, db_runs)
        line(f"province ({GROUP} units) through Django on SQLite", lite_s,
             f"median of {db_runs}; goal: under 0.2 s")  # fmt: skip
        if args.pg:
            pg_s = province_on(args.pg, args.items, db_runs)
            line(f"province ({GROUP} units) through Django on PostgreSQL", pg_s,
                 f"median of {db_runs}; goal: under 0.2 s")  # fmt: skip
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
