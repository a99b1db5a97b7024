"""Recompute the proposed figures of record indicators over N business records, beside DuckDB
doing the same aggregation directly, in the same run.

Run:  .venv/bin/python -m benchmarks.bench_proposals [--records 1000000] [--stations 3000]
      [--runs 3] [--pg postgres://postgres@127.0.0.1:5432/postgres]

The tree: one province, 10 cities, 10 counties each, `--stations` police stations spread over
the counties. Four record indicators over two years (2016–2017) of records: the number of cases
filed by calendar month, the same on a statistical year from 12/21, class-A fugitives caught
(a third of the records carry class A) and the sum of the quantities. The records are made by
the database itself (`generate_series` on PostgreSQL, a recursive CTE on SQLite), seeded by
their number, so every run holds the same rows.

Printed (medians of `--runs`):
- `recompute, first`: `recompute_record_indicators` into empty tables (all inserts);
- `recompute, again`: the same records again (nothing changes: the aggregation and the
  comparison, no write);
- `aggregation alone`: the one SELECT the service runs, without writing;
- `DuckDB`: the same aggregation written directly in DuckDB over the same rows, held in
  DuckDB's memory (loading them is not timed), with the same recursive roll-up up the parents;
  the answers are compared (row count and totals).
Goal: the recompute within 1.5× of DuckDB.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CITIES, COUNTIES = 10, 10
SCRATCH = "duban_recind_bench"


def setup(pg: str | None, workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "duban.settings"
    os.environ["DUBAN_DATA_DIR"] = str(workdir / "data")
    if pg:
        import psycopg

        admin = psycopg.connect(pg.replace("postgres://", "postgresql://", 1), autocommit=True)
        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
        admin.execute(f"CREATE DATABASE {SCRATCH}")
        admin.close()
        os.environ["DATABASE_URL"] = pg.rsplit("/", 1)[0] + f"/{SCRATCH}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(records: int, stations: int) -> list[Any]:
    """The tree, the record types and indicators, and the records; returns the indicators."""
    from django.db import connection

    from duban.indicators import services as ind_services
    from duban.orgs.models import OrgUnit
    from duban.orgs.policy import SYSTEM
    from duban.records.models import BusinessRecord, ImportState, RecordImport, RecordType

    province = OrgUnit.objects.create(
        code="P", name_zh="省厅", level="province", kind="territorial"
    )
    cities = [
        OrgUnit(
            code=f"C{c}",
            name_zh=f"市{c}",
            level="city",
            kind="territorial",
            parent=province,
            path=f"/P/C{c}/",
            depth=1,
        )
        for c in range(CITIES)
    ]
    OrgUnit.objects.bulk_create(cities)
    cities = list(OrgUnit.objects.filter(level="city").order_by("code"))
    counties = [
        OrgUnit(
            code=f"{city.code}X{x}",
            name_zh=f"县{city.code}{x}",
            level="county",
            kind="territorial",
            parent=city,
            path=f"{city.path}{city.code}X{x}/",
            depth=2,
        )
        for city in cities
        for x in range(COUNTIES)
    ]
    OrgUnit.objects.bulk_create(counties)
    counties = list(OrgUnit.objects.filter(level="county").order_by("code"))
    OrgUnit.objects.bulk_create(
        OrgUnit(
            code=f"S{s}",
            name_zh=f"所{s}",
            level="station",
            kind="territorial",
            parent=counties[s % len(counties)],
            path=f"{counties[s % len(counties)].path}S{s}/",
            depth=3,
        )
        for s in range(stations)
    )
    filed = RecordType.objects.create(code="case_filed", name_zh="立案")
    caught = RecordType.objects.create(code="fugitive_caught", name_zh="抓获逃犯")
    source = RecordImport.objects.create(
        file_name="bench.csv", sha256="0" * 64, file_format="csv", state=ImportState.APPLIED
    )
    common = {"levels": ["county", "station"], "kinds": ["territorial"]}
    make = ind_services.create_indicator
    inds = [
        make(user=SYSTEM, issuer=province, code="b.filed", name_zh="立案数",
             value_type="integer", record_type=filed, **common),
        make(user=SYSTEM, issuer=province, code="b.filed.stat", name_zh="立案数（统计年）",
             value_type="integer", record_type=filed, record_start_month=12,
             record_start_day=21, **common),
        make(user=SYSTEM, issuer=province, code="b.caught.A", name_zh="抓获A级逃犯",
             value_type="integer", record_type=caught, record_class="A", **common),
        make(user=SYSTEM, issuer=province, code="b.caught.qty", name_zh="抓获数量",
             value_type="decimal", record_type=caught, record_measure="sum", **common),
    ]  # fmt: skip
    first_station = OrgUnit.objects.filter(level="station").order_by("pk").first()
    assert first_station is not None
    table = BusinessRecord._meta.db_table
    # Record g: type by parity, a station by g, a day in 2016–2017 (731 days), class A for
    # g % 3 == 0, quantity 1..5.
    select = (
        "SELECT 'R' || g, CASE WHEN g % 2 = 0 THEN {filed} ELSE {caught} END, "
        "{first} + (g * 7919) % {stations}, {day}, "
        "CASE g % 3 WHEN 0 THEN 'A' WHEN 1 THEN 'B' ELSE 'local' END, (g % 5) + 1, '{{}}', "
        "{source} FROM {series}"
    )
    if connection.vendor == "postgresql":
        day = "DATE '2016-01-01' + CAST((g * 104729) % 731 AS integer)"
        series = f"generate_series(CAST(1 AS bigint), {records}) AS g"
        prefix = ""
    else:
        day = "date('2016-01-01', '+' || ((g * 104729) % 731) || ' days')"
        series = "s"
        prefix = (
            f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {records}) "
        )
    sql = (
        f"INSERT INTO {table} (record_id, record_type_id, unit_id, occurred_on, grade, quantity, "
        f"attributes, source_id) {prefix}"
        + select.format(
            filed=filed.pk,
            caught=caught.pk,
            first=first_station.pk,
            stations=stations,
            day=day,
            source=source.pk,
            series=series,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")
    return inds


def timed(fn: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def duckdb_reference(inds: list[Any]) -> tuple[Callable[[], Any], Any]:
    """The rows copied into DuckDB (not timed) and the same aggregation as one query there."""
    import duckdb
    from django.db import connection

    from duban.orgs.models import OrgUnit
    from duban.periods import PeriodType
    from duban.records.aggregation import _first_month, _shift
    from duban.records.models import BusinessRecord

    # A DuckDB file, opened afresh for each run: a connection reused across runs of the same
    # query tripped an internal error of DuckDB 1.4 ("dict-surviving cache") at 1M rows.
    folder = Path(tempfile.mkdtemp())
    path, store = folder / "records.csv", str(folder / "reference.duckdb")
    with connection.cursor() as cursor, path.open("w", newline="") as fh:
        cursor.execute(
            f"SELECT record_type_id, unit_id, occurred_on, grade, quantity "
            f"FROM {BusinessRecord._meta.db_table}"
        )
        writer = csv.writer(fh)
        while batch := cursor.fetchmany(50_000):
            writer.writerows(batch)
    db = duckdb.connect(store)
    db.execute(
        "CREATE TABLE r AS SELECT * FROM read_csv(?, header = false, columns = {"
        "'record_type_id': 'BIGINT', 'unit_id': 'BIGINT', 'occurred_on': 'DATE', "
        "'grade': 'VARCHAR', 'quantity': 'DECIMAL(18,4)'})",
        [str(path)],
    )
    path.unlink()
    units = list(OrgUnit.objects.values_list("pk", "parent_id"))
    db.execute("CREATE TABLE u (id BIGINT, parent_id BIGINT)")
    db.executemany("INSERT INTO u VALUES (?, ?)", units)
    db.close()
    rules = []
    for ind in inds:
        cal = ind.record_calendar
        rules.append(
            f"({ind.pk}, {ind.record_type_id}, '{ind.record_class}', "
            f"{1 if ind.record_measure == 'sum' else 0}, {cal.start_day}, {_shift(cal)}, "
            f"{_first_month(cal, PeriodType(ind.period_type))}, 1)"
        )
    sql = f"""
WITH RECURSIVE rules (ind_id, type_id, grade, is_sum, start_day, shift, first_month, span) AS (
    VALUES {", ".join(rules)}
),
own AS (
    SELECT ru.ind_id, ru.is_sum, r.unit_id,
        ((year(r.occurred_on) * 12 + month(r.occurred_on) - 1 + ru.shift
          - CASE WHEN day(r.occurred_on) < ru.start_day THEN 1 ELSE 0 END) - ru.first_month)
          // ru.span AS bucket,
        COUNT(*) AS n, SUM(r.quantity) AS q
    FROM r JOIN rules ru ON r.record_type_id = ru.type_id AND (ru.grade = '' OR r.grade = ru.grade)
    GROUP BY ALL
),
up (unit_id, ancestor_id) AS (
    SELECT DISTINCT unit_id, unit_id FROM own
    UNION ALL
    SELECT up.unit_id, u.parent_id FROM up JOIN u ON u.id = up.ancestor_id
    WHERE u.parent_id IS NOT NULL
)
SELECT own.ind_id, up.ancestor_id, own.bucket,
    SUM(CASE WHEN own.is_sum = 1 THEN own.q ELSE own.n END) AS value, SUM(own.n) AS records
FROM own JOIN up ON up.unit_id = own.unit_id
GROUP BY ALL
"""

    def run() -> list[Any]:
        with duckdb.connect(store, read_only=True) as fresh:
            return fresh.execute(sql).fetchall()

    return run, store


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--stations", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG_URL"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        setup(args.pg, Path(tmp))
        from django.db import connection, transaction

        from duban.orgs.policy import SYSTEM
        from duban.records.aggregation import aggregation_sql, rule_for
        from duban.records.models import ProposalPeriod, ProposedFigure
        from duban.records.proposals import _window, recompute_record_indicators

        started = time.perf_counter()
        inds = build(args.records, args.stations)
        print(
            f"{connection.vendor}: {args.records:,} records over {args.stations:,} stations, "
            f"{len(inds)} record indicators (made in {time.perf_counter() - started:.1f} s)",
            flush=True,
        )

        def clear() -> None:
            with transaction.atomic():
                ProposedFigure.objects.all().delete()
                ProposalPeriod.objects.all().delete()

        def recompute() -> Any:
            return recompute_record_indicators(user=SYSTEM, indicators=inds)

        first = timed(recompute, args.runs, before=clear)
        result = recompute()
        again = timed(recompute, args.runs)
        lo, hi = _window(inds) or (None, None)
        assert lo is not None and hi is not None
        select, params = aggregation_sql([rule_for(i, lo, hi) for i in inds])

        def aggregate() -> list[Any]:
            with connection.cursor() as cursor:
                cursor.execute(select, params)
                return cursor.fetchall()

        alone = timed(aggregate, args.runs)
        ours = aggregate()
        stored = ProposedFigure.objects.count()
        print(f"proposed figures: {stored:,}; the second run changed {result.changed}", flush=True)
        print(f"recompute, first (all inserts)  {first:8.3f} s", flush=True)
        print(f"recompute, again (no change)    {again:8.3f} s", flush=True)
        print(f"aggregation alone (one SELECT)  {alone:8.3f} s", flush=True)
        try:
            query, _db = duckdb_reference(inds)
            duck = timed(query, args.runs)
            theirs = query()
        except Exception as exc:  # a reference that fails leaves the figures above standing
            print(f"DuckDB reference failed: {str(exc).splitlines()[0]}")
        else:
            ok = len(theirs) == len(ours) == stored and round(
                sum(float(r[3]) for r in theirs), 2
            ) == round(sum(float(r[3]) for r in ours), 2)
            print(
                f"DuckDB, same aggregation        {duck:8.3f} s   (rows {len(theirs):,}, agree: {ok})"
            )
            print(
                f"ratios to DuckDB: recompute first {first / duck:.2f}×, again {again / duck:.2f}×, "
                f"aggregation alone {alone / duck:.2f}× (goal: recompute ≤ 1.5×)"
            )
    if args.pg:
        import psycopg

        connection.close()
        admin = psycopg.connect(args.pg.replace("postgres://", "postgresql://", 1), autocommit=True)
        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
        admin.close()


if __name__ == "__main__":
    main(sys.argv[1:])
