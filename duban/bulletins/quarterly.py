"""The quarterly review (季度点评, 一季一点评): the quarter's ranking and a comment per unit.

Each unit's comment is pre-filled from the data — the item it improved most since the
quarter before, the item losing it most points, its overdue key tasks — for the office to
edit into its own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from duban.bulletins import gather
from duban.bulletins.kinds import Json, Kind, Source, TextPart, document, register
from duban.bulletins.models import Bulletin, DocumentKind
from duban.bulletins.writing import change_mark, dec, numeral
from duban.documents.model import Column, Heading, Paragraph, Table
from duban.evaluation.engine.decimals import plain
from duban.periods import PeriodType
from duban.text import period_in_words


@register
class QuarterlyReview(Kind):
    code = DocumentKind.QUARTERLY.value

    def check(self, source: Source) -> None:
        gather.checked_period(source, PeriodType.QUARTERLY)
        gather.scheme_of(source)

    def title(self, source: Source) -> str:
        scope = gather.scope_word(source.series.issuer)
        return f"关于{period_in_words(source.period)}{scope}公安机关绩效考评情况的点评"

    def gather(self, source: Source) -> Json:
        scheme = gather.scheme_of(source)
        period = gather.checked_period(source, PeriodType.QUARTERLY)
        scored = gather.scores(scheme, period, source.today).scored
        units = gather.units_of(scored.result.units)
        tasks = gather.task_status(source, units, source.today)
        notes: dict[str, Json] = {}
        for code, u in scored.result.units.items():
            best: tuple[Decimal, str] | None = None
            if scored.previous is not None and code in scored.previous.units:
                before = scored.previous.units[code].items
                for item_code, r in u.items.items():
                    if not r.counted or item_code not in before:
                        continue
                    gain = r.score - before[item_code].score
                    if gain > 0 and (best is None or gain > best[0]):
                        best = (gain, gather.name(r.item.name))
            lost = gather.losses(scored.result, code, limit=1)
            notes[code] = {
                "improved": [best[1], plain(best[0])] if best else None,
                "shortfall": [lost[0]["name"], lost[0]["lost"]] if lost else None,
                "overdue": tasks["overdue_by_unit"].get(code, 0),
            }
        return {
            "version": 1,
            "invented": gather.invented(units),
            "scheme": {"code": scheme.code, "name": scheme.name_zh},
            "period": period,
            "scope": gather.scope_word(source.series.issuer),
            "ranking": gather.ranking(scored),
            "cohorts": gather.cohorts(scored),
            "notes": notes,
            "tasks": tasks,
        }

    def texts(self, content: Json) -> list[TextPart]:
        period = period_in_words(content["period"])
        scope = content["scope"]
        parts = [
            TextPart(
                "opening",
                _("Opening"),
                f"根据{scope}公安机关绩效考评办法，现对{period}各单位工作情况点评如下：",
                3,
            )
        ]
        for row in content["ranking"]:
            parts.append(
                TextPart(
                    f"unit:{row['code']}",
                    row["name"],
                    _comment(row, content["notes"].get(row["code"], {})),
                    3,
                )
            )
        parts.append(
            TextPart(
                "next_steps",
                _("Next steps (one paragraph per line)"),
                "各单位要对照点评意见，认真查找差距，逐项整改落实，整改情况于下月5日前报厅改革办。",
                4,
            )
        )
        return parts

    def compose(self, bulletin: Bulletin, texts: Mapping[str, str]) -> Any:
        c = bulletin.content
        body: list[Any] = [Paragraph(texts["opening"], key="opening")]
        body.append(Heading("一、总体情况", 1))
        by_code = {r["code"]: r for r in c["ranking"]}
        for n, cohort in enumerate(c["cohorts"], start=1):
            rows = []
            for code in cohort["units"]:
                r = by_code[code]
                rows.append(
                    [
                        r["rank"],
                        r["name"],
                        Decimal(r["total"]),
                        change_mark(r["change"]),
                        r["grade"],
                    ]
                )
            body.append(
                Table(
                    f"表{n} {cohort['name']}{period_in_words(c['period'])}考评排名",
                    [
                        Column("名次", decimals=0, width=0.6),
                        Column("单位", width=2.4),
                        Column("总分", decimals=2, width=1.0),
                        Column("较上季度", width=1.0),
                        Column("等次", width=0.8),
                    ],
                    rows,
                    note="注：“较上季度”为名次变化，▲上升、▼下降。",
                )
            )
        body.append(Heading("二、逐单位点评", 1))
        for n, row in enumerate(c["ranking"], start=1):
            body.append(Heading(f"（{numeral(n)}）{row['name']}", 2))
            text = texts.get(f"unit:{row['code']}", "")
            body.append(Paragraph(text or "—", key=f"unit:{row['code']}"))
        body.append(Heading("三、下步要求", 1))
        body += [
            Paragraph(line.strip(), key="next_steps")
            for line in texts["next_steps"].splitlines()
            if line.strip()
        ]
        return document(bulletin, body)


def _comment(row: Json, note: Json) -> str:
    """A first draft of the unit's comment, from its figures."""
    parts = [f"本季度总分{dec(row['total'])}分，排名第{row['rank']}位"]
    if row.get("change"):
        delta = row["change"]
        parts[0] += f"，较上季度{'上升' if delta > 0 else '下降'}{abs(delta)}位"
    if note.get("improved"):
        item, gain = note["improved"]
        parts.append(f"进步最大的是{item}，较上季度多得{dec(gain)}分")
    if note.get("shortfall"):
        item, lost = note["shortfall"]
        parts.append(f"失分最多的是{item}，失{dec(lost)}分，需重点补齐")
    overdue = note.get("overdue") or 0
    parts.append(f"有{overdue}项重点任务逾期未完成" if overdue else "重点任务均未逾期")
    return "；".join(parts) + "。"
