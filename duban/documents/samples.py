"""A realistic official document for the tests, the benchmark and a look at the layout.

The Shaanxi reform office's monthly bulletin (一月一通报) as the builder will hand it over:
12 city bureaus under a 全省合计 row, headings of three levels, a ranking bar chart and a
12-month trend. ``province_bulletin(150)`` is the same shape at 150 units (the benchmark).
All figures are invented (the demo says so in its 附注).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from duban.documents.model import (
    Block,
    Chart,
    Column,
    Heading,
    OfficialDocument,
    Paragraph,
    Table,
)

CITIES = ("西安市公安局", "宝鸡市公安局", "咸阳市公安局", "铜川市公安局", "渭南市公安局",
          "延安市公安局", "汉中市公安局", "榆林市公安局", "安康市公安局", "商洛市公安局",
          "杨凌示范区公安局", "韩城市公安局")  # fmt: skip

COLUMNS = (
    Column("排名", decimals=0, width=0.6),
    Column("单位", width=2.6),
    Column("总得分", decimals=2, width=0.9),
    Column("立案数", decimals=0, thousands=True, width=1.1),
    Column("破案数", decimals=0, thousands=True, width=1.1),
    Column("破案率", decimals=2, percent=True, width=1.0),
    Column("抓获逃犯", decimals=0, width=0.9),
    Column("名次变化", width=0.8),
)


def _unit_names(units: int) -> list[str]:
    if units <= len(CITIES):
        return list(CITIES[:units])
    return [f"{CITIES[i % len(CITIES)][:-3]}第{i + 1}县公安局" for i in range(units)]


def _rows(names: list[str]) -> tuple[list[list[object]], list[Decimal]]:
    """Rows ranked by score (invented figures) and the scores in the rows' order."""
    raw = []
    for i, name in enumerate(names):
        filed = 1800 + (i * 7919) % 21000
        solved = filed * (30 + (i * 37) % 25) // 100
        score = Decimal(9500 - (i * 613) % 2800) / 100
        fugitives = 3 + (i * 11) % 40
        raw.append((score, name, filed, solved, fugitives, ((i * 5) % 7) - 3))
    raw.sort(key=lambda r: (-r[0], r[1]))
    rows: list[list[object]] = []
    for place, (score, name, filed, solved, fugitives, move) in enumerate(raw, start=1):
        rate = (Decimal(solved) * 100 / filed).quantize(Decimal("0.0001"))
        change = "—" if move == 0 else (f"↑{move}" if move > 0 else f"↓{-move}")
        rows.append([place, name, score, filed, solved, rate, fugitives, change])
    return rows, [r[0] for r in raw]


def _table(names: list[str]) -> Table:
    rows, _scores = _rows(names)
    filed = sum(int(r[3]) for r in rows)  # type: ignore[call-overload]
    solved = sum(int(r[4]) for r in rows)  # type: ignore[call-overload]
    fugitives = sum(int(r[6]) for r in rows)  # type: ignore[call-overload]
    rate = (Decimal(solved) * 100 / filed).quantize(Decimal("0.0001"))
    total = [None, "全省合计", None, filed, solved, rate, fugitives, None]
    return Table(
        title="全省公安机关重点工作绩效考评情况",
        columns=COLUMNS,
        rows=[total, *rows],  # type: ignore[list-item]
        total_rows=1,
        note="注：破案率由全省立案、破案总数计算，不是各单位破案率的平均；数据均为虚构。",
    )


def _charts(table: Table, months: int = 12) -> list[Chart]:
    from duban.web.charts import BarChart, LineChart, Series

    units = table.rows[table.total_rows :]
    ranking = BarChart(
        key="ranking",
        title="各单位总得分",
        categories=[str(r[1]) for r in units],
        series=[Series("总得分", [r[2] for r in units])],  # type: ignore[misc]
        horizontal=True,
        notes=[str(r[7]) if r[7] != "—" else "" for r in units],
        target_line=Decimal(80),
        target_name="良好 80分",
        value_name="分",
    )
    trend = LineChart(
        key="trend",
        title="全省破案率走势",
        categories=[f"{m}月" for m in range(1, months + 1)],
        series=[
            Series("2017年", [Decimal(3500 + m * 37) / 100 for m in range(1, 13)]),
            Series(
                "2016年", [Decimal(3400 + m * 29) / 100 if m != 4 else None for m in range(1, 13)]
            ),
        ],
        value_name="%",
    )
    return [
        Chart(ranking, caption="图1　各单位总得分（分）", height_mm=0),
        Chart(trend, caption="图2　全省破案率走势（%）", height_mm=70),
    ]


def province_bulletin(
    units: int = 12, *, draft: bool = False, extra_chart: bool = False
) -> OfficialDocument:
    """The Shaanxi monthly bulletin over ``units`` units (12: the real cities)."""
    names = _unit_names(units)
    table = _table(names)
    charts = _charts(table)
    body: list[Block] = [
        Heading("一、总体情况"),
        Paragraph(
            "11月，全省公安机关紧紧围绕省厅重点任务和地市亮点工作，按照时间表、路线图推进各项工作，"
            "总体进展顺利。全省立案、破案数同比均有上升，破案率较上月提高0.37个百分点。"
        ),
        Heading("（一）考评得分与排名", level=2),
        Paragraph(f"本月参评单位{units}个，排名情况见下表。", lead="1.总体排名。"),
        table,
        charts[0],
        Heading("（二）主要指标走势", level=2),
        Paragraph("全省破案率连续三个月上升，高于去年同期水平。", lead="1.破案率。"),
        charts[1],
    ]
    if extra_chart:
        from duban.web.charts import BarChart, Series

        rows = table.rows[table.total_rows :]
        top = rows[:10]
        body.append(
            Chart(
                BarChart(
                    key="fugitives",
                    title="抓获逃犯前十名",
                    categories=[str(r[1]) for r in top],
                    series=[Series("抓获逃犯", [r[6] for r in top])],  # type: ignore[misc]
                    value_name="名",
                ),
                caption="图3　抓获逃犯前十名（名）",
                height_mm=70,
            )
        )
    body += [
        Heading("二、存在的问题"),
        Paragraph("部分单位对账销号不及时，个别时间节点滞后，短板项目整改进度偏慢。"),
        Heading("三、下一步工作要求"),
        Paragraph("各单位要对照考评方案一项项梳理，补齐短板，确保年底收官对账。", lead="（1）"),
    ]
    return OfficialDocument(
        authority="陕西省公安厅改革办公室",
        title="关于2017年11月全省公安机关重点工作推进情况的通报",
        body=body,
        signature="陕西省公安厅改革办公室",
        date_written=date(2017, 12, 8),
        number=None if draft else "陕公改办通〔2017〕7号",
        addressees="各市（区）公安局，省厅各部门",
        copy_to="省公安厅领导，各市（区）公安局党委。",
        printed_by="陕西省公安厅改革办公室",
        printed_on=date(2017, 12, 8),
        index_number="431100051/2017-04796",
        category="公安工作",
        notes=("演示数据均为虚构。",),
        draft=draft,
    )


def sample_bulletin(*, draft: bool = False) -> OfficialDocument:
    """The 12-city Shaanxi bulletin the tests read back."""
    return province_bulletin(12, draft=draft)
