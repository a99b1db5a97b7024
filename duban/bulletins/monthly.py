"""The monthly bulletin (月度通报, 一月一通报): where every unit stands this month.

What it prints, as the published bulletins do: the parent's own total above the units
(全省合计, from the summed raw figures), the ranking with its change since last month, the
units banded by progress (完成 / 70%以上 / 50%—70% / 50%以下), the first and last units named,
each unit's shortfalls, the key tasks by lamp with the overdue ones by lead unit, and the
next steps the office writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from duban.bulletins import gather
from duban.bulletins.kinds import Json, Kind, Source, TextPart, document, register
from duban.bulletins.models import Bulletin, DocumentKind
from duban.bulletins.numbering import date_written
from duban.bulletins.progress import progress
from duban.bulletins.writing import change_mark, dec, figure, numeral, percent, signed_change
from duban.documents.model import Chart, Column, Heading, Paragraph, Table
from duban.periods import PeriodType, parse_period
from duban.text import period_in_words
from duban.web.charts import BarChart, LineChart, Series

BAND_WORDS = {
    "complete": "已完成全年任务的单位",
    "above70": "完成70%以上的单位",
    "above50": "完成50%—70%的单位",
    "below50": "完成不足50%的单位",
}
TOP = 3


@register
class MonthlyBulletin(Kind):
    code = DocumentKind.MONTHLY.value

    def check(self, source: Source) -> None:
        gather.checked_period(source, PeriodType.MONTHLY)
        gather.scheme_of(source)

    def title(self, source: Source) -> str:
        scope = gather.scope_word(source.series.issuer)
        return f"关于{period_in_words(source.period)}{scope}公安机关绩效考评情况的通报"

    def gather(self, source: Source) -> Json:
        scheme = gather.scheme_of(source)
        period = gather.checked_period(source, PeriodType.MONTHLY)
        scores = gather.scores(scheme, period, source.today)
        scored = scores.scored
        rows = gather.ranking(scored)
        found = progress(scored, source.series.progress_item)
        if found is not None:
            for row in rows:
                row.update(found.units.get(row["code"], {}))
        units = gather.units_of(scored.result.units)
        shortfalls = {code: gather.losses(scored.result, code) for code in scored.result.units}
        as_of = source.today
        return {
            "version": 1,
            "invented": gather.invented(units),
            "scheme": {"code": scheme.code, "name": scheme.name_zh},
            "period": period,
            "period_end": scored.result.period.end.isoformat()
            if hasattr(scored.result.period, "end")
            else "",
            "issuer": {"code": source.series.issuer.code, "name": source.series.issuer.name_zh},
            "scope": gather.scope_word(source.series.issuer),
            "ranking": rows,
            "cohorts": gather.cohorts(scored),
            "progress": found.summary() if found is not None else None,
            "shortfalls": shortfalls,
            "tasks": gather.task_status(source, units, as_of),
        }

    def texts(self, content: Json) -> list[TextPart]:
        period = period_in_words(content["period"])
        scope = content["scope"]
        return [
            TextPart(
                "opening",
                _("Opening"),
                f"为推动{scope}公安机关重点工作落地见效，现将{period}{scope}绩效考评和重点工作"
                "推进情况通报如下：",
                3,
            ),
            TextPart("progress_comment", _("Comment on the overall progress"), "", 3),
            TextPart("ranking_comment", _("Comment on the ranking"), "", 3),
            TextPart(
                "next_steps",
                _("Next steps (one paragraph per line)"),
                "（一）对照目标补短板。各单位要对照本通报所列短板项目，逐项分析原因，制定整改措施，"
                "确保按序时进度完成任务。\n"
                "（二）紧盯节点抓落实。对逾期未完成的重点任务，牵头单位要明确完成时限，"
                "实行对账销号。\n"
                "（三）压实责任促提升。排名靠后的单位要向主要负责同志专题汇报，"
                "下月通报将跟踪整改情况。",
                6,
            ),
        ]

    def compose(self, bulletin: Bulletin, texts: Mapping[str, str]) -> Any:
        c = bulletin.content
        body: list[Any] = [Paragraph(texts["opening"], key="opening")]
        body += self._overall(c, texts)
        body += self._ranking(c, texts)
        body += self._bands(c)
        body += self._shortfalls(c)
        body += self._tasks(c)
        body.append(Heading("六、下步工作要求", 1))
        body += [Paragraph(line, key="next_steps") for line in _lines(texts["next_steps"])]
        return document(bulletin, body)

    # The parts ---------------------------------------------------------------------------

    def _overall(self, c: Json, texts: Mapping[str, str]) -> list[Any]:
        period = period_in_words(c["period"])
        out: list[Any] = [Heading("一、总体进展", 1)]
        p = c.get("progress")
        if p:
            total = p["total"]
            sentence = (
                f"截至{period}底，{c['scope']}{p['name']}任务{figure(total['target'])}，"
                f"完成{figure(total['done'])}，完成率{percent(total['rate'])}"
            )
            if total.get("previous_rate") not in (None, ""):
                sentence += f"，较上月{signed_change(total['rate'], total['previous_rate'])}"
            out.append(Paragraph(sentence + "。"))
        ranked = c["ranking"]
        if ranked:
            mean = sum(Decimal(r["total"]) for r in ranked) / len(ranked)
            out.append(
                Paragraph(
                    f"参加考评的{len(ranked)}个单位平均得分{dec(mean, 2)}分，"
                    f"最高{dec(max(Decimal(r['total']) for r in ranked), 2)}分，"
                    f"最低{dec(min(Decimal(r['total']) for r in ranked), 2)}分。"
                )
            )
        if texts["progress_comment"]:
            out.append(Paragraph(texts["progress_comment"], key="progress_comment"))
        if p and p.get("trend"):
            months = _month_labels([m for m, _rate in p["trend"]])
            rates = [None if r is None else Decimal(r) for _m, r in p["trend"]]
            out.append(
                Chart(
                    LineChart(
                        key="progress-trend",
                        title=f"{c['scope']}{p['name']}完成率（%）",
                        categories=months,
                        series=[Series(f"{c['scope']}合计", rates)],
                        value_name="%",
                    ),
                    caption=f"图1 {c['scope']}{p['name']}完成率逐月走势",
                    height_mm=70,
                )
            )
        return out

    def _ranking(self, c: Json, texts: Mapping[str, str]) -> list[Any]:
        out: list[Any] = [Heading("二、考评排名", 1)]
        by_code = {r["code"]: r for r in c["ranking"]}
        p = c.get("progress")
        columns = [
            Column("名次", decimals=0, width=0.6),
            Column("单位", width=2.2),
            Column("总分", decimals=2, width=0.9),
            Column("较上月", width=0.8),
        ]
        if p:
            columns += [
                Column("任务数", decimals=p["decimals"], thousands=True, width=1.0),
                Column("完成数", decimals=p["decimals"], thousands=True, width=1.0),
                Column("完成率", decimals=2, percent=True, width=1.0),
            ]
        several = len(c["cohorts"]) > 1
        if p and several:  # the parent's own total above the groups' tables
            t = p["total"]
            out.append(
                Table(
                    f"表 {c['scope']}合计",
                    [Column("", width=2.8), *columns[4:]],
                    [
                        [
                            f"{c['scope']}合计",
                            *(dec_or_none(t[k]) for k in ("target", "done", "rate")),
                        ]
                    ],
                    total_rows=1,
                    note="注：合计由各单位原始数据加总后计算，不是各单位完成率的平均。",
                )
            )
        for n, cohort in enumerate(c["cohorts"], start=1):
            if several:
                out.append(Heading(f"（{numeral(n)}）{cohort['name']}", 2))
            rows: list[list[Any]] = []
            total_rows = 0
            if p and not several:
                t = p["total"]
                rows.append(
                    [
                        "",
                        f"{c['scope']}合计",
                        None,
                        "",
                        dec_or_none(t["target"]),
                        dec_or_none(t["done"]),
                        dec_or_none(t["rate"]),
                    ]
                )
                total_rows = 1
            elif p and several and p.get("groups", {}).get(_cohort_key(cohort)):
                t = p["groups"][_cohort_key(cohort)]
                rows.append(
                    [
                        "",
                        f"{cohort['name']}合计",
                        None,
                        "",
                        dec_or_none(t["target"]),
                        dec_or_none(t["done"]),
                        dec_or_none(t["rate"]),
                    ]
                )
                total_rows = 1
            for code in cohort["units"]:
                r = by_code[code]
                row: list[Any] = [
                    r["rank"],
                    r["name"],
                    Decimal(r["total"]),
                    change_mark(r["change"]),
                ]
                if p:
                    row += [
                        dec_or_none(r.get("target")),
                        dec_or_none(r.get("done")),
                        dec_or_none(r.get("rate")),
                    ]
                rows.append(row)
            title = f"表{n} {cohort['name']}考评排名" if several else "表1 考评排名"
            out.append(
                Table(
                    title,
                    columns,
                    rows,
                    total_rows=total_rows,
                    note="注：“较上月”为名次变化，▲上升、▼下降；合计由各单位原始数据加总后计算。",
                )
            )
        if texts["ranking_comment"]:
            out.append(Paragraph(texts["ranking_comment"], key="ranking_comment"))
        ranked = sorted(c["ranking"], key=lambda r: (-Decimal(r["total"]), r["code"]))
        if ranked:
            out.append(
                Chart(
                    BarChart(
                        key="ranking",
                        title="各单位考评总分",
                        categories=[r["name"] for r in ranked],
                        series=[Series("总分", [Decimal(r["total"]) for r in ranked])],
                        horizontal=True,
                        notes=[change_mark(r["change"]) for r in ranked],
                        value_name="分",
                    ),
                    caption="图2 各单位考评总分",
                    height_mm=min(200.0, 30 + 5.5 * len(ranked)),
                )
            )
            top = [r["name"] for r in ranked[:TOP]]
            bottom = [r["name"] for r in ranked[-TOP:]] if len(ranked) > TOP * 2 else []
            text = f"总分排名前{len(top)}位的是：{'、'.join(top)}"
            if bottom:
                text += f"；排名后{len(bottom)}位的是：{'、'.join(bottom)}"
            out.append(Paragraph(text + "。"))
        return out

    def _bands(self, c: Json) -> list[Any]:
        p = c.get("progress")
        if not p:
            return []
        out: list[Any] = [Heading("三、任务进度", 1)]
        lead = f"按{p['name']}完成率，"
        for n, (code, words) in enumerate(BAND_WORDS.items(), start=1):
            names = [r["name"] for r in c["ranking"] if r.get("band") == code]
            names_text = "、".join(names) if names else "无"
            out.append(
                Paragraph(
                    f"{words}（{len(names)}个）：{names_text}。",
                    lead=f"（{numeral(n)}）" if n else "",
                )
            )
        missing = [r["name"] for r in c["ranking"] if r.get("band") is None]
        if missing:
            out.append(Paragraph(f"未报送数据的单位（{len(missing)}个）：{'、'.join(missing)}。"))
        ranked = [r for r in c["ranking"] if r.get("rate") not in (None, "")]
        ranked.sort(key=lambda r: (-Decimal(r["rate"]), r["code"]))
        if ranked:
            out.insert(1, Paragraph(lead + "各单位进度如图3。"))
            out.append(
                Chart(
                    BarChart(
                        key="progress",
                        title=f"各单位{p['name']}完成率（%）",
                        categories=[r["name"] for r in ranked],
                        series=[Series("完成率", [Decimal(r["rate"]) for r in ranked])],
                        horizontal=True,
                        target_line=100,
                        target_name="完成任务",
                        value_name="%",
                    ),
                    caption=f"图3 各单位{p['name']}完成率",
                    height_mm=min(200.0, 30 + 5.5 * len(ranked)),
                )
            )
        return out

    def _shortfalls(self, c: Json) -> list[Any]:
        """One row per unit that lost points: its items losing most, and what they cost."""
        out: list[Any] = [Heading("四、存在的短板", 1)]
        rows: list[list[Any]] = []
        names = {r["code"]: r["name"] for r in c["ranking"]}
        for code, lost in c["shortfalls"].items():
            if not lost:
                continue
            items = "；".join(f"{i['name']}（失{dec(i['lost'])}分）" for i in lost)
            rows.append([names.get(code, code), items, sum(Decimal(i["lost"]) for i in lost)])
        if not rows:
            out.append(Paragraph("本月各单位各项目均未失分。"))
            return out
        out.append(Paragraph("各单位失分最多的项目如下表，请对照整改。"))
        out.append(
            Table(
                "表 各单位主要失分项目",
                [
                    Column("单位", width=1.8),
                    Column("失分最多的项目", width=3.4),
                    Column("失分合计", decimals=2, width=1.0),
                ],
                rows,
                note="注：每个单位列出失分最多的三个项目。",
            )
        )
        return out

    def _tasks(self, c: Json) -> list[Any]:
        t = c["tasks"]
        counts = t["counts"]
        total = sum(counts.values())
        out: list[Any] = [Heading("五、重点任务推进情况", 1)]
        as_of = date_written(_date(t["as_of"]))
        overdue = sum(len(group["tasks"]) for group in t["overdue"])
        out.append(
            Paragraph(
                f"截至{as_of}，在办重点任务{total}项，其中红灯{counts['red']}项、"
                f"黄灯{counts['yellow']}项、绿灯{counts['green']}项；逾期未完成{overdue}项。"
            )
        )
        if t["overdue"]:
            rows: list[list[Any]] = []
            for group in t["overdue"]:
                for n, (title, due) in enumerate(group["tasks"]):
                    rows.append([group["lead"] if n == 0 else "", title, due])
            out.append(
                Table(
                    "表 逾期重点任务（按牵头单位）",
                    [
                        Column("牵头单位", width=1.6),
                        Column("任务", width=3.2),
                        Column("应完成日期", width=1.2),
                    ],
                    rows,
                )
            )
        return out


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _cohort_key(cohort: Json) -> str:
    return f"{cohort['group']}:{cohort['sequence'] or ''}"


def _date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)


def dec_or_none(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


__all__ = ["MonthlyBulletin", "parse_period"]


def _month_labels(months: list[str]) -> list[str]:
    """The trend's axis labels: 1月 … 11月 within one year (eleven 2017年N月 collide on a
    156 mm axis), the year written where it changes."""
    labels, year = [], None
    for m in months:
        labels.append(f"{int(m[4:])}月" if m[:4] == year else period_in_words(m))
        year = m[:4]
    if len({m[:4] for m in months}) == 1 and labels:
        labels[0] = f"{int(months[0][4:])}月"
    return labels
