"""Import figures from CSV and from xlsx with full validation, in one transaction each.

Run:  .venv/bin/python -m benchmarks import             # 1,000, 10,000 and 100,000 figures
      .venv/bin/python -m benchmarks.bench_import --rows 100000 --runs 3
      .venv/bin/python -m benchmarks.bench_import --sizes 1000,10000 --runs 1 --no-before

It builds a throwaway SQLite database in a temporary directory (500 county
bureaus, 20 indicators with two validation rules and a computed indicator, one
reporter account holding the reporter role at every county), writes the same
figures as a CSV file and as an xlsx sheet, and then, for each size and format, times:

* the bare reader over the file: the csv module; for xlsx both python-calamine
  (what the import reads with) and openpyxl in read-only mode (what it read with),
* `duban.reporting.importing.import_file` on a fresh copy of the database:
  reading, every check the form makes (codes, periods, type and range,
  policy, entry window, form state, duplicates, validation rules) and the
  bulk write with its audit entries, committed;
* for xlsx, the same import forced through openpyxl (the reader before
  python-calamine), so before and after are measured in the same run.

It prints the median of the runs, rows per second, the ratio to the bare
reader, and, at the largest size, the peak memory of one extra run measured with
tracemalloc (plus the process's maximum resident size). It is a benchmark, not a
test: nothing fails when a goal is missed; the goals are printed beside the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import logging
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
# The xlsx import of 100,000 figures before python-calamine (README, openpyxl read-only).
OLD_XLSX_IMPORT_100K = 9.52


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
    """openpyxl alone, read-only: what the import read with before python-calamine."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True)) - 1
    wb.close()
    return n


def bare_calamine(data: bytes) -> int:
    """python-calamine alone: the first sheet's cells as Python lists, from A1."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    n = len(wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)) - 1
    wb.close()
    return n


def use_database(path: Path) -> None:
    from django.db import connections

    conn = connections["default"]
    conn.close()
    conn.settings_dict["NAME"] = str(path)


# CPU seconds of the process for each `timed` call, in order: on a shared machine the wall
# clock also counts the waits for a core and the disk; the CPU columns show the work itself.
CPU_SECONDS: list[float] = []


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    CPU_SECONDS.append(time.process_time() - cpu)
    return time.perf_counter() - start, result


def run_import(
    base: Path, workdir: Path, tag: str, data: bytes, fmt: str, user: Any, engine: str | None = None
) -> float:
    """One import on a fresh copy of the database; `engine` forces the xlsx reader."""
    from functools import partial

    from duban.reporting import importing, readers
    from duban.reporting.importing import import_file
    from duban.spreadsheets import open_workbook

    paused = importing.cyclic_gc_paused

    copy = workdir / f"{tag}.sqlite3"
    use_database(base)
    from django.db import connections

    connections["default"].close()
    shutil.copyfile(base, copy)
    for suffix in ("-wal", "-shm"):
        if Path(str(base) + suffix).exists():
            shutil.copyfile(str(base) + suffix, str(copy) + suffix)
    use_database(copy)
    readers.open_workbook = partial(open_workbook, engine=engine)  # type: ignore[assignment]
    if engine == "openpyxl":  # the before: the import as it was, the collector running too
        importing.cyclic_gc_paused = contextlib.nullcontext  # type: ignore[assignment]
    try:
        seconds, result = timed(lambda: import_file(data, fmt, user=user, today=TODAY))
    finally:
        readers.open_workbook = open_workbook
        importing.cyclic_gc_paused = paused
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


def measure(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    wall, _result = timed(fn)
    return wall, CPU_SECONDS[-1]


def medians(times: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def bench_size(
    size: int, rows: list[tuple[str, str, str, str]], base: Path, workdir: Path, user: Any,
    *, runs: int, before: bool, memory: bool,
) -> tuple[float, float, float]:  # fmt: skip
    """One size's lines of the table; returns the import seconds (csv, xlsx, xlsx before).
    Every reader and import takes its turn run by run, so a shared machine's load weighs on
    all alike."""
    files = {"csv": csv_bytes(rows), "xlsx": xlsx_bytes(rows)}
    kinds = ["csv", "calamine", *(["openpyxl"] if before else [])]
    bare: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    done: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    readers = {"csv": bare_csv, "calamine": bare_calamine, "openpyxl": bare_xlsx}
    for i in range(runs):
        for kind in kinds:
            fmt, engine = ("csv", None) if kind == "csv" else ("xlsx", kind)
            data = files[fmt]
            bare[kind].append(measure(lambda: readers[kind](data)))  # noqa: B023
            wall = run_import(base, workdir, f"{kind}{i}", data, fmt, user, engine)
            done[kind].append((wall, CPU_SECONDS[-1]))
    got = {k: (medians(bare[k]), medians(done[k])) for k in kinds}

    def peak(fmt: str) -> str:
        if not memory:
            return f"{'':>8}"
        used = peak_memory(lambda: run_import(base, workdir, f"{fmt}-mem", files[fmt], fmt, user))
        return f"{used / 1e6:>8.1f}"

    def line(kind: str, label: str, mem: str, goal: str) -> None:
        (b, b_cpu), (t, t_cpu) = got[kind]
        fmt = "csv" if kind == "csv" else "xlsx"
        print(
            f"{size:>8,} {label:<14} {len(files[fmt]) / 1e6:>8.2f} {b:>7.2f} {t:>9.2f} "
            f"{b_cpu:>6.2f} {t_cpu:>6.2f} {size / t:>9,.0f} {t / b:>7.2f} {mem}   {goal}",
            flush=True,
        )

    t_csv = got["csv"][1][0]
    line(
        "csv",
        "csv",
        peak("csv"),
        f"≥ 20,000 rows/s: {'met' if size / t_csv >= 20_000 else 'MISSED'}",
    )
    (b_cal, b_cal_cpu), (t_cal, t_cal_cpu) = got["calamine"]
    goal = (
        f"≤ 1.5× bare calamine: {'met' if t_cal <= 1.5 * b_cal else 'MISSED'} "
        f"(CPU {t_cal_cpu / b_cal_cpu:.1f}×)"
    )
    t_opx = float("nan")
    if before:
        t_opx, t_opx_cpu = got["openpyxl"][1]
        goal += (
            f"; ≥ 3× the openpyxl import: {'met' if 3 * t_cal <= t_opx else 'MISSED'} "
            f"({t_opx / t_cal:.1f}×, CPU {t_opx_cpu / t_cal_cpu:.1f}×)"
        )
    if size == 100_000:
        goal += (
            f"; {OLD_XLSX_IMPORT_100K / t_cal:.1f}× the README's {OLD_XLSX_IMPORT_100K} s "
            f"({'met' if t_cal * 3 <= OLD_XLSX_IMPORT_100K else 'MISSED'}; "
            f"CPU {OLD_XLSX_IMPORT_100K / t_cal_cpu:.1f}×)"
        )
    line("calamine", "xlsx calamine", peak("xlsx"), goal)
    if before:
        line("openpyxl", "xlsx openpyxl", f"{'':>8}", "before: openpyxl read-only, collector on")
    return t_csv, t_cal, t_opx


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, help="one size only (default: --sizes)")
    parser.add_argument("--sizes", default="1000,10000,100000", help="figures, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--no-before", action="store_true", help="skip the xlsx import through openpyxl"
    )
    args = parser.parse_args(argv)
    sizes = [args.rows] if args.rows else [int(n) for n in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="duban-bench-"))
    logging.getLogger("duban").setLevel(logging.WARNING)  # the import's own log lines
    try:
        base = setup_django(workdir)
        from django.db import connections

        user, units, months = build_world()
        connections["default"].close()
        print(
            f"Duban import benchmark — {UNITS} units × {INDICATORS} indicators, {args.runs} runs "
            f"(median), SQLite, Python {sys.version.split()[0]}"
        )
        print(
            f"{'figures':>8} {'format':<14} {'file MB':>8} {'bare s':>7} {'import s':>9} "
            f"{'cpu b':>6} {'cpu i':>6} {'rows/s':>9} {'× bare':>7} {'peak MB':>8}   goal"
        )
        curve = []
        for size in sizes:
            rows = make_rows(units, months, size)
            times = bench_size(
                size, rows, base, workdir, user,
                runs=args.runs, before=not args.no_before, memory=size == sizes[-1],
            )  # fmt: skip
            curve.append((size, *times))
        if len(curve) > 1:
            print("growth (import seconds per 1,000 figures):")
            for size, t_csv, t_cal, t_opx in curve:
                print(
                    f"{size:>8,}  csv {t_csv / size * 1000:.3f}  xlsx {t_cal / size * 1000:.3f}"
                    f"  xlsx through openpyxl {t_opx / size * 1000:.3f}"
                )
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"process maximum resident size: {maxrss:,.0f} MB (includes building the test files)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
