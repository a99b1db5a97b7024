"""Time a monthly bulletin of a 150-unit province, end to end, beside the bare writers.

Run:  .venv/bin/python -m benchmarks.bench_bulletin [--units 150] [--runs 3]

A scratch SQLite database gets a province of ``--units`` county bureaus, six indicators with
approved monthly figures for January to November 2017 (put through the app's writer), a
published scheme scoring them and the office's monthly series. Then, median of ``--runs``:

- Duban's whole bulletin: the draft generated from the data (scores, the province's total from
  the summed figures, bands, shortfalls, key tasks), composed, its three charts drawn (ranking
  bars of every unit, progress bars, the monthly trend line), written as DOCX and as PDF;
- each step alone, and beside it the bare library on the same content
  (``benchmarks.bench_documents``): python-docx saving the same paragraphs and tables
  unstyled, WeasyPrint on a plain HTML of the same content, matplotlib drawing the same charts
  with its defaults.

Goal (printed, never asserted): the whole bulletin under 3 s on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

TODAY = date(2017, 12, 8)
INDICATORS = (
    ("b.removed", "黄标车淘汰数"), ("b.solved", "破案数"), ("b.caught", "抓获逃犯"),
    ("b.gangs", "打掉团伙"), ("b.poll", "满意度"), ("b.cases", "违纪案件"),
)  # fmt: skip


def median(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def build(units: int) -> Any:
    """The province, its scheme and figures, and the series; returns the series."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from duban.audit.context import acting_as
    from duban.bulletins.models import DocumentKind, Series
    from duban.evaluation import services
    from duban.evaluation.builder import data_to_engine
    from duban.indicators import services as ind_services
    from duban.orgs.models import OrgUnit
    from duban.orgs.policy import SYSTEM
    from duban.periods import PeriodType
    from duban.reporting.models import State
    from duban.reporting.values import Figure, put_figures

    with acting_as(source="benchmark", reason="synthetic data"):
        root = OrgUnit.objects.create(code="P", name_zh="某省公安厅", level="province")
        counties = [
            OrgUnit.objects.create(
                code=f"P{u:03d}", name_zh=f"第{u + 1}县公安局", parent=root, level="county"
            )
            for u in range(units)
        ]
        indicators = {
            code: ind_services.create_indicator(
                user=SYSTEM,
                issuer=root,
                code=code,
                name_zh=name,
                name_en=code,
                description="",
                value_type="integer",
                decimals=0,
                period_type=PeriodType.MONTHLY,
                time_aggregation="sum",
                levels=[],
                kinds=[],
            )
            for code, name in INDICATORS
        }
        rows = []
        for month in range(1, 12):
            for n, unit in enumerate(counties):
                for i, code in enumerate(indicators):
                    value = Decimal(
                        (n * 7 + month * 3 + i * 11) % 40 + (90 if code == "b.poll" else 5)
                    )
                    rows.append(
                        Figure(unit, indicators[code], f"2017{month:02d}", value, State.APPROVED)
                    )
        put_figures(rows, user=SYSTEM, action="benchmark.values")
        d = Decimal
        item = lambda code, ind, name, pts, rule, **more: {  # noqa: E731
            "code": code, "category": "work", "indicator": ind, "name": name,
            "points": d(pts), "rule": rule, **more}  # fmt: skip
        data = {
            "code": "b-2017", "name": "某省2017年度绩效考评方案（基准）", "year": 2017, "issuer": "P",
            "units": [{"code": u.code, "name": u.name_zh, "level": "county", "kind": "territorial"}
                      for u in counties],
            "groups": [{"code": "all", "name": "县级公安机关", "members": [u.code for u in counties]}],
            "categories": [{"code": "work", "name": "业务工作", "points": d(100)}],
            "items": [
                item("removed", "b.removed", "黄标车淘汰", 25, {"kind": "attainment"}, cumulative=True,
                     target=d(400)),
                item("solved", "b.solved", "破案数", 20, {"kind": "shortfall", "per_point": d("0.5")},
                     cumulative=True, target=d(300)),
                item("caught", "b.caught", "抓获逃犯", 15, {"kind": "rank", "per_place": d("0.1")},
                     cumulative=True),
                item("gangs", "b.gangs", "打掉团伙", 15, {"kind": "relative_to_best"}, cumulative=True),
                item("poll", "b.poll", "满意度", 15, {"kind": "threshold", "else_share": d("0.5")},
                     target=d(100)),
                item("cases", "b.cases", "违纪案件", 10, {"kind": "deduction", "per_occurrence": d(0.1)},
                     cumulative=True, direction="lower"),
            ],
        }  # fmt: skip
        scheme = services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
        services.publish_scheme(scheme, user=SYSTEM)
        return Series.objects.create(
            issuer=root, kind=DocumentKind.MONTHLY, authority="某省公安厅改革办公室",
            prefix="某公改办通", index_code="610000018", scheme=scheme, progress_item="removed",
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="duban-bulletin-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ["DUBAN_DATA_DIR"] = folder
    os.environ["DJANGO_SETTINGS_MODULE"] = "duban.settings"
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)
    from weasyprint import HTML

    from benchmarks import bench_documents as bare
    from duban.audit.context import acting_as
    from duban.bulletins import render, services
    from duban.documents.charts import document_images
    from duban.documents.docx import to_docx
    from duban.documents.pdf import to_pdf
    from duban.orgs.policy import SYSTEM

    start = time.perf_counter()
    series = build(args.units)
    print(f"set-up: {args.units} units, {args.units * 6 * 11:,} figures, "
          f"{time.perf_counter() - start:.1f} s (not timed below)")  # fmt: skip

    def whole() -> tuple[Any, bytes, bytes]:
        with acting_as(source="benchmark"):
            draft = services.create_draft(series, user=SYSTEM, period="201711", today=TODAY)
        doc = render.compose(draft)
        images = document_images(doc, dpi=render.CHART_DPI)
        return doc, to_docx(doc, images=images), to_pdf(doc, images=images)

    median(whole, 1)  # warm: imports, fonts, matplotlib's font cache
    total, (doc, docx, pdf) = median(whole, args.runs)

    def generate() -> Any:
        with acting_as(source="benchmark"):
            return services.create_draft(series, user=SYSTEM, period="201711", today=TODAY)

    t_gen, _draft = median(generate, args.runs)
    images = document_images(doc, dpi=render.CHART_DPI)
    t_charts, _ = median(lambda: document_images(doc, dpi=render.CHART_DPI), args.runs)
    t_docx, _ = median(lambda: to_docx(doc, images=images), args.runs)
    t_pdf, _ = median(lambda: to_pdf(doc, images=images), args.runs)
    b_charts, pngs = median(lambda: bare.bare_charts(doc), args.runs)
    # python-docx's cell-by-cell API takes tens of seconds on 1,000 cells: one run is enough.
    b_docx, _ = median(lambda: bare.bare_docx(doc, pngs), 1)
    flat = [parts[0] for parts in images]
    b_pdf, _ = median(lambda: HTML(string=bare.bare_html(doc, flat)).write_pdf(), args.runs)
    print(f"\nmonthly bulletin, {args.units} units, 3 charts: DOCX {len(docx) // 1024} KB, "
          f"PDF {len(pdf) // 1024} KB; medians of {args.runs} runs")  # fmt: skip
    print(f"{'step':<44}{'Duban':>10}{'bare':>10}{'ratio':>8}")
    for label, ours, ref in (
        ("draft generated from the data (no writer)", t_gen, None),
        ("3 charts drawn (matplotlib)", t_charts, b_charts),
        ("DOCX written (python-docx)", t_docx, b_docx),
        ("PDF written (WeasyPrint)", t_pdf, b_pdf),
    ):
        ratio = f"{ours / ref:.{2 if ours >= ref / 10 else 3}f}×" if ref else ""
        bare_text = f"{ref:.3f} s" if ref else "—"
        print(f"{label:<44}{ours:>8.3f} s{bare_text:>10}{ratio:>8}")
    print(f"{'the whole bulletin (generate → DOCX + PDF)':<44}{total:>8.3f} s"
          f"{'':>10}  goal < 3 s: {'met' if total < 3 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
