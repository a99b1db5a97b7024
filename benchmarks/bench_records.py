"""Ingest N business records and recompute every record indicator's proposed figures, beside
bare DuckDB reading, checking and aggregating the same file, in the same run.

Run:  .venv/bin/python -m benchmarks records [--scale 100000 ...] [--full] [--runs 3]
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/duban_bench_records … also on PostgreSQL

A seeded generator (DuckDB SQL, no Python loop) writes N records over a synthetic national
tree's units — one province office, 34 city bureaus, 340 counties, 3,400 stations — two
years of them, in the six standard record types, as a CSV file with one extra column; six
record indicators count them (by calendar month, on a statistical year from 12/21, class-A
fugitives only, the sum of vehicles' quantities). Then, on SQLite (a throwaway file) and,
when DATABASE_URL names one, on PostgreSQL (its tables emptied first: use a scratch
database), for each size it times, as medians of `--runs`:

* `ingest+recompute`: `duban.records.services.import_file` as the system into an empty
  store — hashing and sniffing the file, DuckDB reading and checking it (units, types, dates,
  classes, quantities, duplicates, the records held), the record store's Parquet file, the
  import's audited row, committed — and, at its commit, the recompute of all six indicators'
  proposed figures (DuckDB over the store, rolled up the tree, written to the database);
* `of which recompute`: that recompute alone, into empty proposal tables;
* `again`: the same file imported a second time (every row already held, nothing written);
* `duckdb`: bare DuckDB reading the same file with the same unit and type tables, the same
  checking joins and duplicate test, and the same aggregation statement
  (duban.records.aggregation) on the rows it kept; it must find as many proposed figures.

and prints records per second and the ratio of `ingest+recompute` to `duckdb` (the two take
turns, run by run, so that a noisy machine weighs on both alike).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

SEED = 20240101
CITIES, COUNTIES, STATIONS = 34, 10, 10  # per province, per city, per county
DEFAULT_SCALES = [100_000]
FULL_SCALES = [100_000, 1_000_000, 10_000_000]
TYPES = ["case_filed", "case_solved", "arrest", "fugitive_caught", "vehicle_removed", "complaint"]


def unit_codes() -> list[tuple[str, str | None, str]]:
    """(code, parent code, level) of the synthetic tree, parents first."""
    rows: list[tuple[str, str | None, str]] = [("NAT", None, "province")]
    for c in range(CITIES):
        city = f"C{c:02d}"
        rows.append((city, "NAT", "city"))
        for k in range(COUNTIES):
            county = f"{city}K{k:02d}"
            rows.append((county, city, "county"))
            for s in range(STATIONS):
                rows.append((f"{county}S{s:02d}", county, "station"))
    return rows


def generate(path: Path, n: int, codes: list[str]) -> None:
    """N records, reproducible from SEED: the i-th row depends on i and SEED only."""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE u AS SELECT unnest(?::VARCHAR[]) AS code", [codes])
    con.execute("CREATE TABLE uu AS SELECT row_number() OVER (ORDER BY code) - 1 AS k, code FROM u")
    values = ", ".join(f"('{t}', {k})" for k, t in enumerate(TYPES))
    con.execute(f"CREATE TABLE t AS SELECT * FROM (VALUES {values}) v(type, k)")
    units = len(codes)
    con.execute(
        f"""COPY (
        SELECT 'R' || lpad(CAST(i AS VARCHAR), 10, '0') AS record_id,
            uu.code AS unit,
            CAST(DATE '2023-01-01' + CAST(hash(i, {SEED}, 2) % 730 AS INTEGER) AS VARCHAR) AS date,
            t.type AS type,
            CASE WHEN t.type = 'fugitive_caught'
                 THEN ['A', 'B', 'local'][CAST(hash(i, {SEED}, 4) % 3 AS INTEGER) + 1] ELSE '' END AS class,
            CASE WHEN t.type = 'vehicle_removed' THEN CAST(1 + hash(i, {SEED}, 5) % 5 AS VARCHAR) ELSE '' END AS quantity,
            'P' || CAST(hash(i, {SEED}, 6) % 1000 AS VARCHAR) AS place
        FROM range({n}) r(i)
        JOIN uu ON uu.k = hash(i, {SEED}, 1) % {units}
        JOIN t ON t.k = hash(i, {SEED}, 3) % {len(TYPES)}
        ORDER BY i
        ) TO '{path}' (FORMAT csv, HEADER true)"""
    )
    con.close()


def make_indicators(root: Any) -> list[Any]:
    """Six record indicators over the six types: counts by calendar month, one on a
    statistical year from 12/21, class-A fugitives only, and the sum of vehicles' quantities."""
    from duban.indicators import services as ind_services
    from duban.indicators.models import Indicator
    from duban.orgs.policy import SYSTEM
    from duban.records.models import RecordType

    if Indicator.objects.filter(code__startswith="b.").exists():
        return list(Indicator.objects.filter(code__startswith="b.").order_by("code"))
    t = {r.code: r for r in RecordType.objects.all()}
    common = {"levels": ["county", "station"], "kinds": ["territorial"], "value_type": "integer"}
    rules: list[tuple[str, str, dict[str, Any]]] = [
        ("b.filed", "case_filed", {}),
        ("b.filed.stat", "case_filed", {"record_start_month": 12, "record_start_day": 21}),
        ("b.solved", "case_solved", {}),
        ("b.arrest", "arrest", {}),
        ("b.caught.A", "fugitive_caught", {"record_class": "A"}),
        ("b.vehicles", "vehicle_removed", {"record_measure": "sum"}),
    ]
    return [
        ind_services.create_indicator(
            user=SYSTEM, issuer=root, code=code, name_zh=code, record_type=t[kind],
            **common, **extra,
        )
        for code, kind, extra in rules
    ]  # fmt: skip


def duckdb_reference(path: Path, rules: list[Any]) -> int:
    """Bare DuckDB on the same file: read it, the same checking joins against the units and
    types, and the same aggregation the record indicators run (the one statement of
    duban.records.aggregation, by unit and period on each indicator's calendar, rolled up the
    tree); returns the number of proposed figures it finds."""
    import duckdb

    from duban.orgs.models import OrgUnit
    from duban.records import aggregation
    from duban.records.importing import DATE_FORMATS
    from duban.records.models import RecordType

    formats = "[" + ", ".join(f"'{f}'" for f in DATE_FORMATS) + "]"
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    units = list(OrgUnit.objects.values_list("pk", "code"))
    types = list(RecordType.objects.values_list("pk", "code"))
    con.execute(
        "CREATE TABLE ucodes AS SELECT unnest(?::BIGINT[]) AS id, unnest(?::VARCHAR[]) AS code",
        [[u[0] for u in units], [u[1] for u in units]],
    )
    con.execute(
        "CREATE TABLE types AS SELECT unnest(?::BIGINT[]) AS id, unnest(?::VARCHAR[]) AS code",
        [[t[0] for t in types], [t[1] for t in types]],
    )
    aggregation.load_units(con)
    con.execute(
        f"""CREATE TABLE good AS WITH raw AS (
            SELECT * FROM read_csv('{path}', header = true, all_varchar = true, delim = ',',
                quote = '"', escape = '"', comment = ''))
        SELECT r.record_id, t.id AS type_id, u.id AS unit_id,
            CAST(try_strptime(r.date, {formats}) AS DATE) AS occurred_on,
            coalesce(r.class, '') AS grade,
            coalesce(try_cast(nullif(r.quantity, '') AS DECIMAL(18,4)), 1) AS quantity
        FROM raw r JOIN ucodes u ON u.code = r.unit JOIN types t ON t.code = r.type
        QUALIFY count(*) OVER (PARTITION BY r.record_id) = 1"""
    )
    aggregation.aggregate(con, rules, "good")
    found = con.execute("SELECT count(*) FROM fresh").fetchone()
    con.close()
    return int(found[0]) if found else 0


def median_time(fn: Any, runs: int, before: Any = None) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def child(backend: str, scales: list[int], runs: int, workdir: Path) -> None:
    """One database: set Django up on it, build the tree, time every size."""
    if backend == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "duban.settings"
    os.environ["DUBAN_DATA_DIR"] = str(workdir / f"data-{backend}")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from duban.orgs.models import OrgUnit
    from duban.orgs.policy import SYSTEM
    from duban.records import aggregation, proposals, services, store
    from duban.records.demo import load_record_types
    from duban.records.models import ProposalPeriod, RecordImport

    def empty() -> None:
        with connection.cursor() as c:
            for model in (ProposalPeriod, RecordImport):
                table = connection.ops.quote_name(model._meta.db_table)
                if connection.vendor == "postgresql":
                    c.execute(f"TRUNCATE {table} CASCADE")
                else:
                    c.execute(f"DELETE FROM {table}")
        shutil.rmtree(store.root(), ignore_errors=True)

    def no_proposals() -> None:
        ProposalPeriod.objects.all().delete()

    empty()
    load_record_types()
    build_tree(unit_codes())
    root = OrgUnit.objects.get(code="NAT")
    inds = make_indicators(root)
    codes = [
        c for c in OrgUnit.objects.filter(path__startswith="/NAT/").values_list("code", flat=True)
    ]
    print(f"-- {backend} ({connection.vendor}), {len(codes)} units, {len(inds)} record indicators")
    print(
        f"{'records':>12} {'ingest+recompute s':>19} {'of which recompute':>18} {'rec/s':>10} "
        f"{'again s':>8} {'duckdb s':>9} {'ratio':>6}"
    )
    lo, hi = date(2023, 1, 1), date(2024, 12, 31)
    rules = [aggregation.rule_for(i, lo, hi) for i in inds]
    for n in scales:
        path = workdir / f"records-{n}.csv"
        if not path.exists():
            generate(path, n, codes)

        def run_import(path: Path = path) -> Any:
            # As the system, the import recomputes the proposals at its commit, at once.
            return services.import_file(path, name=path.name, user=SYSTEM, unit=root)

        # The import and the reference take turns, run by run (a noisy machine weighs on both
        # alike); medians of each.
        totals, references, imp, found = [], [], None, 0
        for _run in range(runs):
            empty()
            start = time.perf_counter()
            imp = run_import()
            totals.append(time.perf_counter() - start)
            start = time.perf_counter()
            found = duckdb_reference(path, rules)
            references.append(time.perf_counter() - start)
        total, reference = statistics.median(totals), statistics.median(references)
        assert imp is not None and imp.rows_new == n and imp.rows_bad == 0
        made = sum(len(proposals.held_proposals(i)) for i in inds)
        assert found == made, (found, made)  # the same proposed figures
        recompute, _r = median_time(
            lambda: proposals.recompute_record_indicators(user=SYSTEM), runs, before=no_proposals
        )
        again, imp2 = median_time(run_import, 1 if n >= 5_000_000 else runs)
        assert imp2.rows_known == n and imp2.rows_new == 0
        print(
            f"{n:>12,} {total:>19.2f} {recompute:>18.2f} {n / total:>10,.0f} {again:>8.2f} "
            f"{reference:>9.2f} {total / reference:>5.2f}×  ({made:,} proposed figures)",
            flush=True,
        )
        empty()


def build_tree(tree: list[tuple[str, str | None, str]]) -> None:
    from duban.orgs.models import OrgUnit

    if OrgUnit.objects.filter(code="NAT").exists():
        return
    paths: dict[str, str] = {}
    pks: dict[str, int] = {}
    by_level: dict[str, list[tuple[str, str | None, str]]] = {}
    for row in tree:
        by_level.setdefault(row[2], []).append(row)
    for level in ("province", "city", "county", "station"):
        made = []
        for code, parent, lvl in by_level[level]:
            paths[code] = (paths[parent] if parent else "/") + code + "/"
            made.append(
                OrgUnit(
                    code=code,
                    name_zh=f"单位{code}",
                    level=lvl,
                    kind="territorial",
                    parent_id=pks[parent] if parent else None,
                    path=paths[code],
                    depth=paths[code].count("/") - 2,
                )
            )
        OrgUnit.objects.bulk_create(made)
        pks.update(OrgUnit.objects.filter(level=level).values_list("code", "pk"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, nargs="+", help="record counts (default 100000)")
    parser.add_argument("--full", action="store_true", help="100k, 1M and 10M records")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument(
        "--sqlite-max", type=int, default=10_000_000, help="largest size run on SQLite"
    )
    args = parser.parse_args()
    scales = args.scale or (FULL_SCALES if args.full else DEFAULT_SCALES)
    if args.backend:
        child(args.backend, scales, args.runs, Path(args.workdir))
        return
    print(
        f"goal: ingest and recompute within 1.5× of bare DuckDB reading, checking and "
        f"aggregating the same file; "
        f"runs={args.runs} (median)"
    )
    backends = ["sqlite"] + (
        ["postgresql"] if os.environ.get("DATABASE_URL", "").startswith("postgres") else []
    )
    with tempfile.TemporaryDirectory(prefix="duban-bench-records-") as tmp:
        for backend in backends:
            sizes = [n for n in scales if backend != "sqlite" or n <= args.sqlite_max]
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_records",
                    "--backend",
                    backend,
                    "--workdir",
                    tmp,
                    "--runs",
                    str(args.runs),
                    "--scale",
                    *map(str, sizes),
                ],
                check=True,
            )


if __name__ == "__main__":
    main()
