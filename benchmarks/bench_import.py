"""Import 100,000 figures from CSV and from xlsx with full validation, in one transaction each.

Run:  .venv/bin/python -m benchmarks.bench_import [--rows 100000] [--runs 3]

It builds a throwaway SQLite database in a temporary directory (500 county
bureaus, 20 indicators with two validation rules and a computed indicator, one
reporter account holding the reporter role at every county), writes the same
figures as a CSV file and as an xlsx sheet, and then, for each format, times:

* the bare reader over the file (the csv module; openpyxl in read-only mode),
* `duban.reporting.importing.import_file` on a fresh copy of the database:
  reading, every check the form makes (codes, periods, type and range,
  policy, entry window, form state, duplicates, validation rules) and the
  bulk write with its audit entries, committed.

It prints the median of the runs, rows per second, the ratio to the bare
reader, and the peak memory of one extra run measured with tracemalloc (plus
the process's maximum resident size). It is a benchmark, not a test: nothing
fails when a goal is missed; the goals are printed beside the figures.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

UNITS = 500
INDICATORS = 20
TODAY = date(2017, 12, 20)


def setup_django(workdir: Path) -> Path:
    """Point Duban at a fresh SQLite file before Django starts, then migrate it."""
    db = workdir / "base.sqlite3"
    os.environ["DJANGO_SETTINGS_MODULE"] = "duban.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["DUBAN_DATA_DIR"] = str(workdir / "data")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return db


def build_world() -> tuple[Any, list[str], list[str]]:
    """The organisation, definitions and the reporter; returns (user, unit codes, periods)."""
    from duban.accounts.models import User
    from duban.indicators import services as ind
    from duban.orgs.models import Membership, OrgUnit
    from duban.orgs.policy import SYSTEM
    from duban.periods import PeriodType, periods_between
    from duban.reporting import services

    city = OrgUnit.objects.create(
        code="BENCH", name_zh="基准市局", level="city", kind="territorial"
    )
    OrgUnit.objects.bulk_create(
        [
            OrgUnit(
                code=f"C{i:04d}",
                name_zh=f"县局{i}",
                level="county",
                kind="territorial",
                parent=city,
                path=f"/BENCH/C{i:04d}/",
                depth=1,
            )
            for i in range(UNITS)
        ]
    )
    user = User.objects.create(username="feed", full_name="business system feed")
    Membership.objects.bulk_create(
        [
            Membership(user=user, unit=u, role="reporter")
            for u in OrgUnit.objects.filter(level="county")
        ]
    )
    codes = [f"bench.i{n:02d}" for n in range(INDICATORS)]
    for n, code in enumerate(codes):
        ind.create_indicator(
            user=SYSTEM,
            issuer=city,
            code=code,
            name_zh=f"指标{n}",
            value_type="decimal" if n % 5 == 4 else "integer",
            levels=["county"],
            kinds=["territorial"],
            sort_order=n,
        )
    ind.create_indicator(
        user=SYSTEM,
        issuer=city,
        code="bench.rate",
        name_zh="比率",
        value_type="percentage",
        formula="bench.i01 / bench.i00 * 100",
    )
    ds = ind.create_data_set(
        user=SYSTEM,
        owner=city,
        code="BENCH-M",
        name_zh="基准月报",
        indicators=[*codes, "bench.rate"],
        expiry_days=0,
    )
    ind.add_rule(ds, user=SYSTEM, name="i01 ≤ i00", expression="bench.i01 <= bench.i00")
    ind.add_rule(ds, user=SYSTEM, name="rate ≤ 100", expression="bench.rate <= 100")
    months = [
        p.id for p in periods_between(PeriodType.MONTHLY, date(2017, 1, 1), date(2017, 12, 31))
    ]
    for p in months:
        services.open_period(ds, p, user=SYSTEM)
    units = [f"C{i:04d}" for i in range(UNITS)]
    return user, units, months


def make_rows(units: list[str], months: list[str], rows: int) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    for p in months:
        for u in units:
            for n in range(INDICATORS):
                value = str(100 + (len(out) % 37)) if n != 1 else "50"
                if n % 5 == 4:
                    value += ".25"
                out.append((f"bench.i{n:02d}", p, u, value))
                if len(out) == rows:
                    return out
    raise SystemExit(f"--rows {rows} is more than {len(units) * len(months) * INDICATORS} figures")


def csv_bytes(rows: list[tuple[str, str, str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["indicator", "period", "unit", "value"])
    w.writerows(rows)
    return buf.getvalue().encode()


def xlsx_bytes(rows: list[tuple[str, str, str, str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Values")
    ws.append(["indicator", "period", "unit", "value"])
    for ind, p, u, v in rows:
        ws.append([ind, p, u, float(v) if "." in v else int(v)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def bare_csv(data: bytes) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8"), newline=""))) - 1


def bare_xlsx(data: bytes) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True)) - 1
    wb.close()
    return n


def use_database(path: Path) -> None:
    from django.db import connections

    conn = connections["default"]
    conn.close()
    conn.settings_dict["NAME"] = str(path)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run_import(base: Path, workdir: Path, tag: str, data: bytes, fmt: str, user: Any) -> float:
    from duban.reporting.importing import import_file

    copy = workdir / f"{tag}.sqlite3"
    use_database(base)
    from django.db import connections

    connections["default"].close()
    shutil.copyfile(base, copy)
    for suffix in ("-wal", "-shm"):
        if Path(str(base) + suffix).exists():
            shutil.copyfile(str(base) + suffix, str(copy) + suffix)
    use_database(copy)
    seconds, result = timed(lambda: import_file(data, fmt, user=user, today=TODAY))
    assert result.created == result.rows, result.as_dict()
    connections["default"].close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    return seconds


def peak_memory(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    try:
        base = setup_django(workdir)
        from django.db import connections

        user, units, months = build_world()
        connections["default"].close()
        rows = make_rows(units, months, args.rows)
        files = {"csv": csv_bytes(rows), "xlsx": xlsx_bytes(rows)}
        bare = {"csv": bare_csv, "xlsx": bare_xlsx}
        print(
            f"Duban import benchmark — {args.rows:,} figures, {UNITS} units × {INDICATORS} indicators × "
            f"{len({r[1] for r in rows})} months, {args.runs} runs (median), SQLite, Python {sys.version.split()[0]}"
        )
        print(
            f"{'format':<6} {'file MB':>8} {'bare s':>8} {'import s':>9} {'rows/s':>9} {'× bare':>7} "
            f"{'peak MB':>8}   goal"
        )
        for fmt, data in files.items():
            bare_times = [timed(lambda: bare[fmt](data))[0] for _ in range(args.runs)]  # noqa: B023
            import_times = [
                run_import(base, workdir, f"{fmt}{i}", data, fmt, user) for i in range(args.runs)
            ]
            peak = peak_memory(lambda: run_import(base, workdir, f"{fmt}-mem", data, fmt, user))  # noqa: B023
            b, t = statistics.median(bare_times), statistics.median(import_times)
            rate = args.rows / t
            goal = (
                f"≥ 20,000 rows/s: {'met' if rate >= 20_000 else 'MISSED'}"
                if fmt == "csv"
                else f"≤ 3× bare reader: {'met' if t <= 3 * b else 'MISSED'}"
            )
            print(
                f"{fmt:<6} {len(data) / 1e6:>8.2f} {b:>8.2f} {t:>9.2f} {rate:>9,.0f} {t / b:>7.2f} "
                f"{peak / 1e6:>8.1f}   {goal}"
            )
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"process maximum resident size: {maxrss:,.0f} MB (includes building the test files)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
