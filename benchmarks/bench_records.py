"""Import N business records (read, check, write) beside DuckDB doing the same reading and
checks and a GROUP BY unit, month and type on the same file, in the same run.

Run:  .venv/bin/python -m benchmarks records [--scale 100000 ...] [--full] [--runs 3]
      DATABASE_URL=postgres://postgres@127.0.0.1:5432/duban_bench_records … also on PostgreSQL

A seeded generator (DuckDB SQL, no Python loop) writes N records over a synthetic national
tree's units — one province office, 34 city bureaus, 340 counties, 3,400 stations — two
years of them, in the six standard record types, as a CSV file with one extra column. Then,
on SQLite (a throwaway file) and, when DATABASE_URL names one, on PostgreSQL (its tables
emptied first: use a scratch database), for each size it times, as medians of `--runs`:

* `import`: `duban.records.services.import_file` on an empty records table — hashing and
  sniffing the file, DuckDB reading and checking it (units, types, dates, classes,
  quantities, duplicates, the records held), the bulk write (COPY / executemany) and the
  import's audited row, committed;
* `again`: the same file imported a second time (every row already held, nothing written);
* `duckdb`: bare DuckDB reading the same file with the same unit and type tables, the same
  checks, and the aggregation the record indicators do (count and sum by unit, month, type).

and prints records per second and the ratio of `import` to `duckdb`. 10 M records (`--full`
ends with it) take some minutes; the step that dominates is printed (`--profile`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
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


def duckdb_reference(
    path: Path, units: list[tuple[int, str, str]], types: list[tuple[int, str]]
) -> int:
    """Bare DuckDB: read, the same checks by joins, and the record indicators' GROUP BY."""
    import duckdb

    from duban.records.importing import DATE_FORMATS

    formats = "[" + ", ".join(f"'{f}'" for f in DATE_FORMATS) + "]"
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute(
        "CREATE TABLE units AS SELECT unnest(?::BIGINT[]) AS id, unnest(?::VARCHAR[]) AS code, unnest(?::VARCHAR[]) AS path",
        [[u[0] for u in units], [u[1] for u in units], [u[2] for u in units]],
    )
    con.execute(
        "CREATE TABLE types AS SELECT unnest(?::BIGINT[]) AS id, unnest(?::VARCHAR[]) AS code",
        [[t[0] for t in types], [t[1] for t in types]],
    )
    groups = con.execute(
        f"""WITH raw AS (
            SELECT * FROM read_csv('{path}', header = true, all_varchar = true, delim = ',',
                quote = '"', escape = '"', comment = '') WITH ORDINALITY),
        checked AS (
            SELECT u.id AS unit_id, t.id AS type_id, r.record_id,
                CAST(try_strptime(r.date, {formats}) AS DATE) AS d,
                coalesce(try_cast(nullif(r.quantity, '') AS DECIMAL(18,4)), 1) AS q,
                count(*) OVER (PARTITION BY r.record_id) AS copies
            FROM raw r LEFT JOIN units u ON u.code = r.unit LEFT JOIN types t ON t.code = r.type)
        SELECT count(*) FROM (
            SELECT unit_id, date_trunc('month', d) AS month, type_id, count(*), sum(q)
            FROM checked
            WHERE unit_id IS NOT NULL AND type_id IS NOT NULL AND d IS NOT NULL AND copies = 1
            GROUP BY ALL)"""
    ).fetchone()
    con.close()
    return int(groups[0]) if groups else 0


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
    from duban.records import services
    from duban.records.demo import load_record_types
    from duban.records.models import BusinessRecord, RecordImport, RecordType

    def empty() -> None:
        with connection.cursor() as c:
            for model in (BusinessRecord, RecordImport):
                table = connection.ops.quote_name(model._meta.db_table)
                if connection.vendor == "postgresql":
                    c.execute(f"TRUNCATE {table} CASCADE")
                else:
                    c.execute(f"DELETE FROM {table}")

    empty()
    load_record_types()
    tree = unit_codes()
    if not OrgUnit.objects.filter(code="NAT").exists():
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
    root = OrgUnit.objects.get(code="NAT")
    units = list(OrgUnit.objects.values_list("pk", "code", "path"))
    types = list(RecordType.objects.values_list("pk", "code"))
    codes = [c for _pk, c, p in units if p.startswith("/NAT/")]
    print(f"-- {backend} ({connection.vendor}), {len(codes)} units")
    print(
        f"{'records':>12} {'import s':>9} {'rec/s':>10} {'again s':>8} {'duckdb s':>9} {'ratio':>6}"
    )
    for n in scales:
        path = workdir / f"records-{n}.csv"
        if not path.exists():
            generate(path, n, codes)

        def run_import(path: Path = path) -> Any:
            return services.import_file(path, name=path.name, user=SYSTEM, unit=root)

        imported, imp = median_time(run_import, runs, before=empty)
        assert imp.rows_new == n and imp.rows_bad == 0, (imp.rows_new, imp.rows_bad)
        again, imp2 = median_time(run_import, 1 if n >= 5_000_000 else runs)
        assert imp2.rows_known == n and imp2.rows_new == 0
        reference, groups = median_time(
            lambda path=path: duckdb_reference(path, units, types), runs
        )
        print(
            f"{n:>12,} {imported:>9.2f} {n / imported:>10,.0f} {again:>8.2f} "
            f"{reference:>9.2f} {imported / reference:>6.1f}×  ({groups:,} unit-month-type groups)",
            flush=True,
        )
        empty()


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
        f"goal: import within 1.5× of bare DuckDB reading, checking and grouping the same file; "
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
