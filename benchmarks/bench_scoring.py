"""Score a synthetic national scheme with the engine, beside a hand-written DuckDB query.

Run:  .venv/bin/python -m benchmarks.bench_scoring [--units 3000] [--items 150] [--runs 3] [--no-db]

The scheme: ``--units`` county bureaus in peer groups of 150 (one "province"
each), ``--items`` cumulative items cycling through seven rules — attainment
(cap 1), shortfall (per point), deduction, bonus (capped), rank (per place),
relative-to-best and steps (two bands) — and one whole figure per unit, item
and month for the 12 months of 2017 (3,000 × 150 × 12 = 5.4 million values).
"Full recomputation" is ``compute_scores`` for the year to date from those
values: every year-to-date sum, item score, category and total, rank, item
place basis and grade.

The reference is one DuckDB SQL statement over the same values (a table
already in DuckDB's memory) computing the same year-to-date sums, item scores,
totals and total ranks. Both answers are compared: every item score and total
must agree within 0.000001 (DuckDB works in doubles; the engine in exact
decimals) and every rank exactly. The script prints medians of ``--runs`` runs, the
ratio, the engine's peak memory (tracemalloc, values excluded), the
time of one province (150 units), and — unless ``--no-db`` — the database path
for one province on SQLite: the one values query plus the computation, as
the pages do it. Goals (printed, never asserted): within 2× of DuckDB; a
province under 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
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


def db_province(items: int, runs: int) -> float:
    """One province through the database: the values query plus the computation (SQLite)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "duban.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    os.environ["DUBAN_DATA_DIR"] = str(workdir / "data")
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
    scheme = services.save_engine_scheme(build_scheme(GROUP, items), user=None)
    seconds, _ = median_time(lambda: score(scheme, "2017", with_previous=False), runs)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--items", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-db", action="store_true")
    args = parser.parse_args()
    from duban.evaluation.engine import compute_scores

    print(
        f"synthetic scheme: {args.units} units, {args.items} items ({', '.join(KINDS)}), 12 months"
    )
    scheme = build_scheme(args.units, args.items)
    values = build_values(args.units, args.items)
    print(f"values: {len(values):,}")

    engine_s, result = median_time(lambda: compute_scores(scheme, values, "2017"), args.runs)
    con = duck_setup(args.units, args.items)
    duck_s, rows = median_time(lambda: con.execute(SQL).fetchall(), args.runs)
    bad = check(result, rows)
    tracemalloc.start()
    compute_scores(scheme, values, "2017")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"engine full recomputation   {engine_s:8.3f} s (median of {args.runs})")
    print(
        f"DuckDB reference query      {duck_s:8.3f} s (median of {args.runs}, {os.cpu_count()} threads)"
    )
    print(f"ratio engine / DuckDB       {engine_s / duck_s:8.2f}   (goal: at most 2)")
    print(
        f"engine peak memory          {peak / 2**20:8.1f} MiB (tracemalloc; the values mapping excluded)"
    )
    print(
        f"agreement                   {'all ' + str(len(rows)) + ' scores, totals and ranks agree' if not bad else str(bad) + ' MISMATCHES'}"
    )
    province = build_scheme(GROUP, args.items)
    pvalues = {k: v for k, v in values.items() if int(k[1][1:]) < GROUP}
    prov_s, _ = median_time(lambda: compute_scores(province, pvalues, "2017"), max(args.runs, 5))
    print(f"province ({GROUP} units), engine  {prov_s:8.3f} s (goal: under 0.2 s)")
    if not args.no_db:
        db_s = db_province(args.items, max(args.runs, 5))
        print(f"province ({GROUP} units), SQLite values query + compute  {db_s:8.3f} s")
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
