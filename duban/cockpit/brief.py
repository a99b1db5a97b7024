"""The dispatch brief (调度简报): the meeting screen as an official document.

Gathered from the screen itself: the meeting's frozen pack when it was frozen (what was shown
at the meeting), else the pack the screen would build now for the office writing the brief
(`build_screen`), so the brief and the wall can never disagree. The snapshot keeps only what
the document prints: per unit, in the meeting's order, its figures now and before in each
span and the chance mark, its rank and total, its overdue tasks.

Composed as a short opening the office may edit, the spans' dates, then one page per unit: a
heading with its name, its rank, a table of its figures (a change marked only when the
Poisson test says it is more than chance, so 2 → 4 is not), its overdue tasks and a remark
the office may edit (by default one line naming its marked changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import get_language, ngettext, npgettext, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

from duban.bulletins.kinds import Json, Kind, Source, TextPart, document, register
from duban.bulletins.models import DocumentKind
from duban.cockpit.models import ScreenPack
from duban.cockpit.screen import ScreenError, build_screen, slides_for
from duban.documents.model import (
    Block,
    Cell,
    Column,
    Heading,
    OfficialDocument,
    PageBreak,
    Paragraph,
    Table,
)
from duban.meetings.models import Meeting
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.periods import PeriodType
from duban.text import period_in_words

if TYPE_CHECKING:
    from duban.bulletins.models import Bulletin

BRIEF_VERSION = 1
OPENING = "opening"


SPAN_WORDS = {
    "week": (pgettext_lazy("dispatch brief", "This week"),
             pgettext_lazy("dispatch brief", "Week before")),
    "days28": (pgettext_lazy("dispatch brief", "Last 28 days"),
               pgettext_lazy("dispatch brief", "28 days before")),
    "year": (pgettext_lazy("dispatch brief", "Year to date"),
             pgettext_lazy("dispatch brief", "Same dates last year")),
}  # fmt: skip


def unit_key(code: str) -> str:
    """The text part holding the office's remark on one unit."""
    return f"unit:{code}"


# Gathering ---------------------------------------------------------------------------------


def _meeting(source: Source) -> Meeting:
    if source.meeting is None:
        raise ScreenError(_("a dispatch brief is written for a meeting: choose one"), "meeting")
    return source.meeting


def _pack(meeting: Meeting, source: Source) -> tuple[Json, bool, list[int]]:
    """The frozen pack (the slides the writer may read) or the pack built for him now."""
    frozen = ScreenPack.objects.filter(meeting=meeting).first()
    if frozen is None:
        pack = build_screen(meeting, source.today, viewer=source.user)
        return pack, False, [s["unit_id"] for s in pack["slides"]]
    return frozen.pack, True, [s["unit_id"] for s in slides_for(frozen.pack, source.user)]


def _kept_cell(cell: Json) -> Json:
    return {"now": cell["now"], "before": cell["before"], "mark": cell["mark"]}


def _kept_row(row: Json) -> Json:
    return {
        "name": row["name"],
        "measure": row["measure"],
        "period_type": row["period_type"],
        "cells": [_kept_cell(c) for c in row["cells"]],
    }


def gather_brief(source: Source) -> Json:
    """The snapshot: the screen's pack cut to what the brief prints, units named by code
    (the remarks are keyed by it), and whether its units are invented demo units."""
    meeting = _meeting(source)
    pack, frozen, readable = _pack(meeting, source)
    shown = set(readable)
    slides = [s for s in pack["slides"] if s["unit_id"] in shown]
    units = {
        pk: (code, demo)
        for pk, code, demo in OrgUnit.objects.filter(
            pk__in=[s["unit_id"] for s in slides]
        ).values_list("pk", "code", "is_demo")
    }
    content: Json = {
        "version": BRIEF_VERSION,
        "meeting": {"title": pack["title"], "held_on": pack["held_on"]},
        "as_of": pack["as_of"],
        "frozen": frozen,
        "convener": pack["convener"],
        "spans": pack["spans"],
        "scheme": pack["scheme"],
        "units": [
            {
                "code": units[s["unit_id"]][0],
                "name": s["name"],
                "chair": s["chair"],
                "line_picture": s.get("line_picture"),
                "rows": [_kept_row(r) for r in s["rows"]],
                "more_rows": s["more_rows"],
                "rank": s["rank"],
                "red": s["red"],
                "more_red": s["more_red"],
            }
            for s in slides
            if s["unit_id"] in units
        ],
    }
    if meeting.unit.is_demo or any(demo for _code, demo in units.values()):
        content["invented"] = True
    return content


# Words -------------------------------------------------------------------------------------


def _sep() -> str:
    return pgettext("dispatch brief", "; ")


def _lang() -> str:
    return "en" if (get_language() or "zh-hans").startswith("en") else "zh"


def _name(names: Mapping[str, str]) -> str:
    return names.get(_lang()) or names["zh"]


def _day(day: date, *, year: bool) -> str:
    if year:
        return period_in_words(f"{day:%Y%m%d}")
    return _("month %(month)s day %(day)s") % {"month": day.month, "day": day.day}


def _dates(days: list[str], this_year: int) -> str:
    start, end = date.fromisoformat(days[0]), date.fromisoformat(days[1])
    other = start.year != this_year or end.year != this_year
    return _("%(start)s to %(end)s") % {
        "start": _day(start, year=other),
        "end": _day(end, year=other),
    }


def _span_words(key: str) -> tuple[str, str]:
    now, before = SPAN_WORDS.get(key, (key, key))
    return str(now), str(before)


def _change_words(mark: str) -> str:
    if mark == "up":
        return pgettext("dispatch brief", "significant rise")
    if mark == "down":
        return pgettext("dispatch brief", "significant fall")
    return ""


def _mark_text(mark: str) -> str:
    """What the change column prints: only a change beyond chance."""
    arrow = {"up": "▲", "down": "▼"}.get(mark)
    return f"{arrow} {_change_words(mark)}" if arrow else ""


def _number(text: str) -> Cell:
    """A figure as the pack holds it ('' for none): whole numbers stay numbers; a fraction
    (a rate beside counts in one column of whole numbers) is written as the screen wrote it."""
    if text == "":
        return None
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else text


# Texts -------------------------------------------------------------------------------------


def opening_default(content: Json) -> str:
    held = date.fromisoformat(content["meeting"]["held_on"])
    as_of = date.fromisoformat(content["as_of"])
    return _(
        "On %(date)s %(convener)s held the %(meeting)s. This brief sets out, as of %(as_of)s, "
        "each unit's main figures (this week and the last 28 days against the span before, "
        "the year to date against the same dates last year), its evaluation rank and its "
        "overdue tasks."
    ) % {
        "date": _day(held, year=True),
        "convener": _name(content["convener"]),
        "meeting": content["meeting"]["title"],
        "as_of": _day(as_of, year=True),
    }


def remark_default(content: Json, unit: Json) -> str:
    """One line naming the unit's changes beyond chance; empty when there is none."""
    keys = [s["key"] for s in content["spans"]]
    parts = []
    for row in unit["rows"]:
        for key, cell in zip(keys, row["cells"], strict=True):
            if not cell["mark"]:
                continue
            now_words, before_words = _span_words(key)
            parts.append(
                _("%(indicator)s %(span)s %(change)s (%(now)s, %(before_span)s %(before)s)")
                % {
                    "indicator": _name(row["name"]),
                    "span": now_words,
                    "change": _change_words(cell["mark"]),
                    "now": cell["now"],
                    "before_span": before_words,
                    "before": cell["before"],
                }
            )
    return pgettext("dispatch brief", "%(items)s.") % {"items": _sep().join(parts)} if parts else ""


def text_parts(content: Json) -> list[TextPart]:
    opening = TextPart(
        OPENING, pgettext("dispatch brief", "Opening"), opening_default(content), rows=4
    )
    remarks = [
        TextPart(
            unit_key(u["code"]),
            _("Remark on %(unit)s") % {"unit": _name(u["name"])},
            remark_default(content, u),
            rows=2,
        )
        for u in content["units"]
    ]
    return [opening, *remarks]


# Composing ---------------------------------------------------------------------------------


def _spans_paragraph(content: Json) -> Paragraph:
    this_year = date.fromisoformat(content["as_of"]).year
    spans = []
    for s in content["spans"]:
        now_words, before_words = _span_words(s["key"])
        spans.append(
            _("%(span)s %(dates)s (%(before_span)s %(before_dates)s)")
            % {
                "span": now_words,
                "dates": _dates(s["now"], this_year),
                "before_span": before_words,
                "before_dates": _dates(s["before"], this_year),
            }
        )
    return Paragraph(
        _("%(spans)s. Approved figures only.") % {"spans": _sep().join(spans)},
        lead=_("Spans compared. "),
    )


def _columns(content: Json) -> list[Column]:
    columns = [Column(_("Indicator"), width=2.2)]
    for s in content["spans"]:
        now_words, before_words = _span_words(s["key"])
        columns += [
            Column(now_words, decimals=0),
            Column(before_words, decimals=0),
            Column(pgettext("dispatch brief", "Change"), width=1.4),
        ]
    return columns


def _indicator(row: Json) -> str:
    name = _name(row["name"])
    return (
        _("%(indicator)s (%(measure)s)") % {"indicator": name, "measure": row["measure"]}
        if row["measure"]
        else name
    )


def _table_note(unit: Json) -> str:
    notes = [
        _(
            "Note: ▲ ▼ mark a change of a count beyond chance (Poisson test: z = 2·(√now − "
            "√before) beyond ±2); a change within chance, such as 2 → 4, is not marked; "
            "rates are not tested"
        )
    ]
    types = {r["period_type"] for r in unit["rows"]}
    if PeriodType.MONTHLY in types:
        notes.append(_("monthly figures: only the whole months inside each span"))
    if PeriodType.WEEKLY in types:
        notes.append(_("weekly figures: only the whole weeks inside each span"))
    if unit["more_rows"]:
        notes.append(
            ngettext(
                "%(n)s more indicator not shown",
                "%(n)s more indicators not shown",
                unit["more_rows"],
            )
            % {"n": unit["more_rows"]}
        )
    return pgettext("dispatch brief", "%(items)s.") % {"items": _sep().join(notes)}


def figures_table(content: Json, unit: Json) -> Table:
    rows: list[list[Cell]] = []
    for row in unit["rows"]:
        cells: list[Cell] = [_indicator(row)]
        for cell in row["cells"]:
            cells += [_number(cell["now"]), _number(cell["before"]), _mark_text(cell["mark"])]
        rows.append(cells)
    return Table(
        title=_("%(unit)s: main figures") % {"unit": _name(unit["name"])},
        columns=_columns(content),
        rows=rows,
        note=_table_note(unit),
    )


def _rank_text(content: Json, unit: Json) -> str:
    rank, scheme = unit["rank"], content["scheme"]
    if not rank or not scheme:
        return _("Not ranked in a published scheme.")
    text = _("No. %(rank)s of %(of)s in %(scheme)s (as of %(month)s), %(total)s points.") % {
        "rank": rank["rank"],
        "of": rank["of"],
        "scheme": _name(scheme["scheme"]),
        "month": period_in_words(scheme["period"]),
        "total": rank["total"],
    }
    return text + (_(" Vetoed.") if rank["vetoed"] else "")


def _red_text(unit: Json) -> str:
    if not unit["red"]:
        return pgettext("dispatch brief", "none.")
    tasks = [
        ngettext("%(task)s (%(n)s day overdue)", "%(task)s (%(n)s days overdue)", t["days"])
        % {"task": t["title"], "n": t["days"]}
        for t in unit["red"]
    ]
    text = pgettext("dispatch brief", "%(items)s.") % {"items": _sep().join(tasks)}
    if unit["more_red"]:
        more = npgettext(
            "dispatch brief",
            " And %(n)s more overdue.",
            " And %(n)s more overdue.",
            unit["more_red"],
        )
        text += more % {"n": unit["more_red"]}
    return text


def unit_page(content: Json, unit: Json, remark: str) -> list[Block]:
    """One unit's page: name, rank, figures, overdue tasks, the office's remark."""
    blocks: list[Block] = [Heading(_name(unit["name"]), 1)]
    if unit.get("line_picture"):
        blocks.append(
            Paragraph(
                _("the line's figures for the whole of %(unit)s")
                % {"unit": _name(unit["line_picture"])}
            )
        )
    blocks.append(Paragraph(_rank_text(content, unit), lead=_("Evaluation. ")))
    if unit["rows"]:
        blocks.append(figures_table(content, unit))
    else:
        blocks.append(Paragraph(_("No approved figures of this unit in these spans.")))
    blocks.append(Paragraph(_red_text(unit), lead=_("Overdue tasks. ")))
    if remark:
        blocks.append(Paragraph(remark, lead=_("Remark. "), key=unit_key(unit["code"])))
    return blocks


def compose_brief(bulletin: Bulletin, texts: Mapping[str, str]) -> OfficialDocument:
    """The opening, the spans, then one page per unit; a text part the office emptied is
    left out, one it never touched reads its default."""
    content = bulletin.content
    defaults = {p.key: p.default for p in text_parts(content)}

    def text(key: str) -> str:
        return texts.get(key, defaults.get(key, ""))

    opening = text(OPENING)
    body: list[Block] = [Paragraph(opening, key=OPENING)] if opening else []
    body.append(_spans_paragraph(content))
    for i, unit in enumerate(content["units"]):
        if i:
            body.append(PageBreak())
        body += unit_page(content, unit, text(unit_key(unit["code"])))
    return document(bulletin, body)


@register
class DispatchBrief(Kind):
    """调度简报: one page per unit of a dispatch meeting, from its screen."""

    code = DocumentKind.DISPATCH.value

    def title(self, source: Source) -> str:
        meeting = _meeting(source)
        return _("%(date)s %(meeting)s: dispatch brief") % {
            "date": _day(meeting.held_on, year=True),
            "meeting": meeting.title,
        }

    def check(self, source: Source) -> None:
        """A brief needs a meeting the writer may read, convened in the issuer's subtree."""
        meeting = _meeting(source)
        issuer = source.series.issuer
        if not meeting.unit.is_within(issuer):
            raise ScreenError(
                _("the meeting is not convened by %(unit)s or a unit under it")
                % {"unit": _name({"zh": issuer.name_zh, "en": issuer.name_en})},
                "meeting",
            )
        if not policy.can(source.user, Action.VIEW_DATA, meeting.unit):
            raise ScreenError(_("you may not read this meeting's figures"), "meeting")

    def gather(self, source: Source) -> Json:
        return gather_brief(source)

    def texts(self, content: Json) -> list[TextPart]:
        return text_parts(content)

    def compose(self, bulletin: Bulletin, texts: Mapping[str, str]) -> OfficialDocument:
        return compose_brief(bulletin, texts)
