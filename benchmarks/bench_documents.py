"""Write a 150-unit province bulletin (3 charts) as DOCX, PDF and XLSX, beside bare writers.

Run:  .venv/bin/python -m benchmarks.bench_documents [--units 150] [--runs 5]

The document is ``duban.documents.samples.province_bulletin(units, extra_chart=True)``: the
ranking table of all units under a 全省合计 row, a ranking bar chart (cut to the first and
last 20), a 12-month trend line and a top-ten bar chart. Each of Duban's writers is timed
beside a bare reference on the same content, in the same process:
- charts: matplotlib (Agg) drawing the same bars and lines with default layout
  (``tight_layout``), value labels, the same CJK font, 156 mm at 200 dpi, all 150 bars;
- DOCX: python-docx building a plain document of the same paragraphs and table cell by
  cell through its public API, and the same PNGs, saved;
- PDF: WeasyPrint on a bare HTML page of the same text and table (one font family, no
  GB/T 9704 CSS) and the same PNGs.
Printed: medians of ``--runs`` (after one warm-up run), ratios to the reference, and the
total of one download of DOCX + PDF (charts drawn once and shared). Goal: total under 3 s.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from typing import Any


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: fonts, imports, caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bare_charts(doc: Any) -> list[bytes]:
    """The reference: matplotlib's plain way, every bar, tight_layout."""
    from duban.documents.charts import _pyplot  # the same font registration

    plt = _pyplot()
    out = []
    for block in doc.charts():
        chart = block.chart
        fig, ax = plt.subplots(figsize=(156 / 25.4, max(80, len(chart.categories) * 4.6) / 25.4))
        values = [float(v) if v is not None else float("nan") for v in chart.series[0].values]
        if getattr(chart, "horizontal", False):
            bars = ax.barh(chart.categories, values)
            ax.invert_yaxis()
            ax.bar_label(bars)
        elif type(chart).__name__ == "LineChart":
            for s in chart.series:
                ax.plot(
                    chart.categories,
                    [float(v) if v is not None else float("nan") for v in s.values],
                )
        else:
            ax.bar_label(ax.bar(chart.categories, values))
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200)
        plt.close(fig)
        out.append(buf.getvalue())
    return out


def bare_docx(doc: Any, pngs: list[bytes]) -> bytes:
    from docx import Document
    from docx.shared import Mm

    from duban.documents import layout as L
    from duban.documents.model import Chart, Heading, Paragraph, Table

    d = Document()
    d.add_paragraph(doc.authority)
    d.add_paragraph(doc.number or "")
    d.add_paragraph(doc.title)
    charts = 0
    for block in doc.body:
        if isinstance(block, (Heading, Paragraph)):
            d.add_paragraph(block.text)
        elif isinstance(block, Table):
            t = d.add_table(rows=1 + len(block.rows), cols=len(block.columns))
            for j, c in enumerate(block.columns):
                t.cell(0, j).text = c.header
            for i, row in enumerate(block.rows, start=1):
                for j, (c, v) in enumerate(zip(block.columns, row, strict=True)):
                    t.cell(i, j).text = L.cell_text(c, v)
        elif isinstance(block, Chart):
            d.add_picture(io.BytesIO(pngs[charts]), width=Mm(156))
            charts += 1
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def bare_html(doc: Any, pngs: list[bytes]) -> str:
    import base64
    from html import escape

    from duban.documents import layout as L
    from duban.documents.model import Chart, Heading, Paragraph, Table

    parts = [
        f"<h1>{escape(doc.authority)}</h1><p>{escape(doc.number or '')}</p><h2>{escape(doc.title)}</h2>"
    ]
    charts = 0
    for block in doc.body:
        if isinstance(block, (Heading, Paragraph)):
            parts.append(f"<p>{escape(block.text)}</p>")
        elif isinstance(block, Table):
            parts.append(
                "<table><thead><tr>"
                + "".join(f"<th>{escape(c.header)}</th>" for c in block.columns)
            )
            parts.append("</tr></thead><tbody>")
            for row in block.rows:
                cells = "".join(
                    f"<td>{escape(L.cell_text(c, v))}</td>"
                    for c, v in zip(block.columns, row, strict=True)
                )
                parts.append(f"<tr>{cells}</tr>")
            parts.append("</tbody></table>")
        elif isinstance(block, Chart):
            data = base64.b64encode(pngs[charts]).decode()
            parts.append(f'<img src="data:image/png;base64,{data}">')
            charts += 1
    style = (
        '@page { size: A4; margin: 37mm 26mm 35mm 28mm; } html { font-family: "Noto Serif CJK SC"; '
        "font-size: 16pt; } table { border-collapse: collapse; font-size: 12pt; } td, th { border: 1px solid; } "
        "img { width: 156mm; }"
    )
    return f'<html><head><meta charset="utf-8"><style>{style}</style></head><body>{"".join(parts)}</body></html>'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=150)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "duban.settings")
    import django

    django.setup()
    from weasyprint import HTML

    from duban.documents.charts import document_images
    from duban.documents.docx import to_docx
    from duban.documents.pdf import to_pdf
    from duban.documents.samples import province_bulletin
    from duban.documents.xlsx import to_xlsx

    doc = province_bulletin(args.units, extra_chart=True)
    images = document_images(doc)
    flat = [parts[0] for parts in images]
    bare_pngs = bare_charts(doc)
    runs = args.runs
    rows = [
        ("charts (3)", median_ms(lambda: document_images(doc), runs), median_ms(lambda: bare_charts(doc), runs)),
        ("DOCX", median_ms(lambda: to_docx(doc, images=images), runs),
         # python-docx's cell-by-cell API is some 40 s for 1,200 cells: one run is enough
         median_ms(lambda: bare_docx(doc, bare_pngs), 1)),
        ("PDF", median_ms(lambda: to_pdf(doc, images=images), runs),
         median_ms(lambda: HTML(string=bare_html(doc, flat)).write_pdf(), runs)),
        ("XLSX", median_ms(lambda: to_xlsx(doc), runs), float("nan")),
    ]  # fmt: skip

    def download() -> None:
        shared = document_images(doc)
        to_docx(doc, images=shared)
        to_pdf(doc, images=shared)

    total = median_ms(download, runs)
    pages = HTML(
        string=__import__("duban.documents.html", fromlist=["x"]).to_print_html(doc, images=images)
    ).render()
    print(f"document: {args.units} units, {len(doc.charts())} charts, PDF {len(pages.pages)} pages; "
          f"medians of {runs} runs, ms")  # fmt: skip
    print(f"{'writer':<12}{'Duban':>10}{'bare':>10}{'ratio':>8}")
    for name, ours, bare in rows:
        ratio = ours / bare if bare == bare else float("nan")
        print(f"{name:<12}{ours:>10.0f}{bare:>10.0f}{ratio:>8.2f}")
    print(f"{'DOCX + PDF, charts drawn once (one download)':<46}{total:>8.0f} ms  (goal < 3000)")


if __name__ == "__main__":
    main()
