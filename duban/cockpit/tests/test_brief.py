"""The dispatch brief: the meeting screen as one official document, one page per unit."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

import pytest
from django.utils import timezone

from duban.bulletins import kinds
from duban.bulletins.models import Bulletin, Series
from duban.cockpit.brief import DispatchBrief
from duban.cockpit.screen import ScreenError, build_screen, freeze_screen
from duban.cockpit.tests.conftest import HELD, Setting, put_days, ranked_scheme
from duban.documents.model import Heading, OfficialDocument, PageBreak, Paragraph, Table
from duban.meetings import services as meetings
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.tasks.tests.factories import make_task
from duban.testing import make_unit, make_user

UP = "▲ 显著上升"


@pytest.fixture
def county_c(tree: Any, setting: Setting) -> OrgUnit:
    """COUNTY-C joins the meeting, third in the tree's order: this week 4 against 2 (chance),
    the last 28 days 4 + 2 + 34 = 40 against 10 (beyond it: z = 2·(√40 − √10) = 6.3), the
    year to date 40 + 10 = 50 against 40 last year (chance: z = 1.5)."""
    unit = make_unit("COUNTY-C", tree.city, name_zh="丙县局", name_en="County C", sort_order=3)
    put_days(unit, setting.filed, {
        "20171204": 4, "20171128": 2, "20171120": 34, "20171020": 10, "20160301": 40,
    })  # fmt: skip
    participants = [p.unit for p in setting.meeting.participants.all()] + [unit]
    meetings.update_meeting(setting.meeting, user=SYSTEM, participants=participants)
    return unit


def _series(tree: Any) -> Series:
    return Series.objects.get_or_create(
        issuer=tree.city, kind="dispatch", defaults={"authority": "市公安局", "prefix": "市公调简"}
    )[0]


def _draft(tree: Any, meeting: Any, user: Any, today: date = HELD) -> Bulletin:
    """A draft as the new-document form makes it: title and content from the kind."""
    series = _series(tree)
    source = kinds.Source(series, HELD.isoformat(), today, user, meeting)
    brief = kinds.kind("dispatch")
    return Bulletin(
        series=series,
        issuer=tree.city,
        kind="dispatch",
        period=source.period,
        meeting=meeting,
        title=brief.title(source),
        content=brief.gather(source),
        date_written=HELD,
        generated_at=timezone.now(),
    )


def _compose(bulletin: Bulletin, texts: dict[str, str] | None = None) -> OfficialDocument:
    return kinds.kind("dispatch").compose(bulletin, texts if texts is not None else bulletin.texts)


def _pages(doc: OfficialDocument) -> list[list[Any]]:
    """The body cut at its page breaks (the opening shares the first unit's page)."""
    pages: list[list[Any]] = [[]]
    for block in doc.body:
        if isinstance(block, PageBreak):
            pages.append([])
        else:
            pages[-1].append(block)
    return pages


def _page(doc: OfficialDocument, name: str) -> list[Any]:
    return next(p for p in _pages(doc) if Heading(name, 1) in p)


def _table(doc: OfficialDocument, name: str) -> Table:
    return next(b for b in _page(doc, name) if isinstance(b, Table))


def _paragraphs(page: list[Any]) -> list[Paragraph]:
    return [b for b in page if isinstance(b, Paragraph)]


def test_the_kind_is_registered_by_the_cockpit_app() -> None:
    assert isinstance(kinds.kind("dispatch"), DispatchBrief)


def test_title_names_the_day_and_the_meeting(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    assert (
        _draft(tree, setting.meeting, office).title == "2017年12月8日全市公安机关视频调度会调度简报"
    )


def test_one_page_per_unit_in_the_meetings_order(tree, setting, county_c) -> None:
    office = make_user("office", tree.city, "office")
    doc = _compose(_draft(tree, setting.meeting, office))
    body = list(doc.body)
    headings = [b.text for b in body if isinstance(b, Heading) and b.level == 1]
    assert headings == ["乙县局", "甲县局", "丙县局", "刑侦支队", "市局"]  # the chair last
    # exactly one page break between consecutive units, none before the first
    starts = [i for i, b in enumerate(body) if isinstance(b, Heading) and b.level == 1]
    for a, b in pairwise(starts):
        assert [type(x) for x in body[a:b]].count(PageBreak) == 1
        assert isinstance(body[b - 1], PageBreak)
    assert not any(isinstance(x, PageBreak) for x in body[: starts[0]])
    assert len(_pages(doc)) == 5


def test_table_cells_are_the_screens_figures_as_numbers(tree, setting, county_c) -> None:
    office = make_user("office", tree.city, "office")
    doc = _compose(_draft(tree, setting.meeting, office))
    a = _table(doc, "甲县局")
    assert [c.header for c in a.columns] == [
        "指标", "本周", "上周", "变化", "近28天", "前28天", "变化", "本年累计", "去年同期", "变化",
    ]  # fmt: skip
    assert [c.decimals for c in a.columns] == [None, 0, 0, None] * 1 + [0, 0, None] * 2
    # week 5 against 1 (z 2.47), 28 days 10 against 6 (z 1.43), year 26 against 8 (z 3.1)
    assert a.rows == [["立案数（起）", 5, 1, UP, 10, 6, "", 26, 8, UP]]
    # 2 → 4 in the week is chance; 10 → 40 over 28 days is not; 40 → 50 is chance again
    assert _table(doc, "丙县局").rows == [["立案数（起）", 4, 2, "", 40, 10, UP, 50, 40, ""]]
    # COUNTY-B: 12-05 2 and 11-30 4; nothing in the 28 days before, nor last year
    assert _table(doc, "乙县局").rows == [["立案数（起）", 2, 4, "", 6, None, "", 6, None, ""]]
    # the city sums its counties: week 5 + 2 + 4 = 11 against 1 + 4 + 2 = 7 (z 1.3);
    # 28 days 10 + 6 + 40 = 56 against 6 + 10 = 16; year 26 + 6 + 50 = 82 against 8 + 40
    assert _table(doc, "市局").rows == [["立案数（起）", 11, 7, "", 56, 16, UP, 82, 48, UP]]
    assert "2 → 4" in a.note and "±2" in a.note


def test_every_table_equals_the_screen_pack(tree, setting, county_c) -> None:
    office = make_user("office", tree.city, "office")
    doc = _compose(_draft(tree, setting.meeting, office))
    pack = build_screen(setting.meeting, HELD, viewer=office)
    for slide in pack["slides"]:
        if not slide["rows"]:
            continue
        table = _table(doc, slide["name"]["zh"])
        for row, shown in zip(table.rows, slide["rows"], strict=True):
            numbers = [c for i, c in enumerate(row[1:]) if i % 3 != 2]
            expected = [v for c in shown["cells"] for v in (c["now"], c["before"])]
            assert [("" if n is None else str(n)) for n in numbers] == expected
            marks = [c for i, c in enumerate(row[1:]) if i % 3 == 2]
            assert [bool(m) for m in marks] == [bool(c["mark"]) for c in shown["cells"]]


def test_a_unit_without_figures_says_so(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    page = _page(_compose(_draft(tree, setting.meeting, office)), "刑侦支队")
    assert not any(isinstance(b, Table) for b in page)
    assert "本单位在这些时段没有已审核的数据。" in [p.text for p in _paragraphs(page)]


def test_rank_and_total_and_the_red_tasks(tree, setting) -> None:
    ranked_scheme(tree)
    make_task(tree.city, tree.county_a, title="追逃攻坚", due_date=date(2017, 11, 30))
    make_task(tree.city, tree.county_a, title="黄标车清零", due_date=date(2017, 12, 6))
    office = make_user("office", tree.city, "office")
    doc = _compose(_draft(tree, setting.meeting, office))
    a = {p.lead: p.text for p in _paragraphs(_page(doc, "甲县局"))}
    assert a["考评排名。"] == "在《测试方案》（截至2017年3月）中排第2名（共2个单位），总分20分。"
    assert a["逾期任务。"] == "追逃攻坚（逾期8天）；黄标车清零（逾期2天）。"
    b = {p.lead: p.text for p in _paragraphs(_page(doc, "乙县局"))}
    assert b["考评排名。"] == "在《测试方案》（截至2017年3月）中排第1名（共2个单位），总分26分。"
    assert b["逾期任务。"] == "无。"
    city = {p.lead: p.text for p in _paragraphs(_page(doc, "市局"))}
    assert city["考评排名。"] == "未在已发布的考评方案中排名。"


def test_the_opening_and_remarks_are_editable_with_generated_defaults(
    tree, setting, county_c
) -> None:
    office = make_user("office", tree.city, "office")
    bulletin = _draft(tree, setting.meeting, office)
    parts = {p.key: p for p in kinds.kind("dispatch").texts(bulletin.content)}
    assert list(parts) == [
        "opening", "unit:COUNTY-B", "unit:COUNTY-A", "unit:COUNTY-C", "unit:DIV", "unit:CITY",
    ]  # fmt: skip
    assert parts["opening"].default.startswith("2017年12月8日，市局召开全市公安机关视频调度会。")
    # the remark names only the changes beyond chance
    assert parts["unit:COUNTY-C"].default == "立案数近28天显著上升（40，前28天10）。"
    assert (
        parts["unit:COUNTY-A"].default
        == "立案数本周显著上升（5，上周1）；立案数本年累计显著上升（26，去年同期8）。"
    )
    assert parts["unit:COUNTY-B"].default == ""

    doc = _compose(bulletin)  # no edits yet: the defaults
    opening = next(b for b in doc.body if isinstance(b, Paragraph) and b.key == "opening")
    assert opening.text == parts["opening"].default
    assert Paragraph(parts["unit:COUNTY-C"].default, lead="点评。", key="unit:COUNTY-C") in (
        _page(doc, "丙县局")
    )
    assert not any(p.key == "unit:COUNTY-B" for p in _paragraphs(_page(doc, "乙县局")))

    edited = _compose(bulletin, {"opening": "会议开场。", "unit:COUNTY-B": "乙县局要补报数据。"})
    assert edited.body[0] == Paragraph("会议开场。", key="opening")
    assert Paragraph("乙县局要补报数据。", lead="点评。", key="unit:COUNTY-B") in (
        _page(edited, "乙县局")
    )
    emptied = _compose(bulletin, dict.fromkeys(parts, ""))  # the office cleared them all
    assert not any(isinstance(b, Paragraph) and b.key for b in emptied.body)


def test_the_spans_dates_are_printed(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    doc = _compose(_draft(tree, setting.meeting, office))
    spans = doc.body[1]
    assert isinstance(spans, Paragraph) and spans.lead == "统计时段。"
    assert spans.text == (
        "本周为12月2日至12月8日（上周为11月25日至12月1日）；"
        "近28天为11月11日至12月8日（前28天为10月14日至11月10日）；"
        "本年累计为1月1日至12月8日（去年同期为2016年1月1日至2016年12月8日）。只计已审核的数据。"
    )


def test_the_frozen_screen_is_what_the_brief_prints(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    freeze_screen(setting.meeting, user=office, today=HELD)
    put_days(tree.county_a, setting.filed, {"20171204": 40})  # approved after the meeting
    bulletin = _draft(tree, setting.meeting, office, today=date(2018, 1, 5))
    assert bulletin.content["frozen"] is True
    assert _table(_compose(bulletin), "甲县局").rows[0][1:3] == [5, 1]  # as shown, not 45


def test_the_snapshot_keeps_only_what_the_document_prints(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    content = _draft(tree, setting.meeting, office).content
    a = next(u for u in content["units"] if u["code"] == "COUNTY-A")
    assert set(a) == {
        "code", "name", "chair", "line_picture", "rows", "more_rows", "rank", "red", "more_red",
    }  # fmt: skip
    assert set(a["rows"][0]) == {"name", "measure", "period_type", "cells"}
    assert a["rows"][0]["cells"][0] == {"now": "5", "before": "1", "mark": "up"}
    assert "invented" not in content
    assert not _compose(_draft(tree, setting.meeting, office)).notes  # no invented note


def test_demo_units_get_the_invented_note(tree, setting) -> None:
    OrgUnit.objects.filter(pk__in=[tree.city.pk, tree.county_a.pk, tree.county_b.pk]).update(
        is_demo=True
    )
    office = make_user("office", tree.city, "office")
    bulletin = _draft(tree, setting.meeting, office)
    assert bulletin.content["invented"] is True
    assert _compose(bulletin).notes == (kinds.INVENTED_NOTE,)


def test_a_writer_gets_only_the_units_he_may_read(tree, setting) -> None:
    freeze_screen(setting.meeting, user=SYSTEM, today=HELD)
    county_office = make_user("county_office", tree.county_a, "office")
    content = _draft(tree, setting.meeting, county_office).content
    assert [u["code"] for u in content["units"]] == ["COUNTY-A"]


def test_check_refuses_without_a_meeting_or_outside_the_issuer(tree, setting) -> None:
    office = make_user("office", tree.city, "office")
    brief = DispatchBrief()
    series = _series(tree)
    with pytest.raises(ScreenError):
        brief.check(kinds.Source(series, "", HELD, office, None))
    other = meetings.create_meeting(
        tree.other_city, user=SYSTEM, kind="dispatch", held_on=HELD, title="外市调度会",
        participants=[],
    )  # fmt: skip
    with pytest.raises(ScreenError):
        brief.check(kinds.Source(series, "", HELD, office, other))
    brief.check(kinds.Source(series, "", HELD, office, setting.meeting))


def test_gather_does_not_query_per_unit_or_figure(
    tree, setting, django_assert_max_num_queries
) -> None:
    office = make_user("office", tree.city, "office")
    series = _series(tree)
    brief = kinds.kind("dispatch")

    def gather() -> dict[str, Any]:
        return brief.gather(kinds.Source(series, HELD.isoformat(), HELD, office, setting.meeting))

    with django_assert_max_num_queries(15) as small:
        gather()
    more = [make_unit(f"COUNTY-{n}", tree.city, name_zh=f"{n}县局") for n in "CDEFGHIJK"]
    for n, unit in enumerate(more):
        put_days(unit, setting.filed, {"20171208": n, "20171201": 2 * n, "20170301": 3})
    participants = [p.unit for p in setting.meeting.participants.all()] + more
    meetings.update_meeting(setting.meeting, user=SYSTEM, participants=participants)
    with django_assert_max_num_queries(len(small.captured_queries)):
        content = gather()
    assert len(content["units"]) == 13  # 11 counties, the division and the city


def test_a_rate_beside_counts_keeps_its_fraction(tree, setting) -> None:
    from duban.reporting.tests.conftest import make_form, put_figure

    form = make_form(tree)  # monthly 立案数 (the daily one is kept), 破案数 and 破案率
    put_figure(tree.county_a, form.filed, "201711", 99)
    put_figure(tree.county_a, form.solved, "201711", 7)
    put_figure(tree.county_a, form.solved, "201611", 4)
    office = make_user("office", tree.city, "office")
    table = _table(_compose(_draft(tree, setting.meeting, office)), "甲县局")
    # 破案率 = 7 / 99 × 100 = 7.0707…, rounded by the screen to 7.07: kept as written, not
    # shown as 7 in a column of whole counts; last year had no cases filed to divide by
    assert table.rows[1:] == [
        ["破案数", None, None, "", None, None, "", 7, 4, ""],
        ["破案率", None, None, "", None, None, "", "7.07", None, ""],
    ]
    assert "月报数据：只计各时段内的整月" in table.note


def test_english_wording(tree, setting, english) -> None:
    office = make_user("office", tree.city, "office")
    bulletin = _draft(tree, setting.meeting, office)
    assert bulletin.title.endswith("全市公安机关视频调度会: dispatch brief")
    a = _table(_compose(bulletin), "County A")
    assert [c.header for c in a.columns][:4] == ["Indicator", "This week", "Week before", "Change"]
    assert a.rows[0][3] == "▲ significant rise"


def test_the_meeting_pages_button_drafts_the_brief_for_the_office_only(tree, setting) -> None:
    """The city office presses 生成调度简报 on the meeting page: a draft of its dispatch series,
    for the meeting's day, opens for editing. A county reporter's press is refused, and so is
    the office's when no dispatch series covers the meeting's unit."""
    from django.urls import reverse

    from duban.testing import logged_in

    make_user("office", tree.city, "office")
    make_user("reporter", tree.county_a, "reporter")
    url = reverse("bulletins:brief", args=[setting.meeting.pk])
    office = logged_in("office")
    refused = office.post(url, follow=True)
    assert not Bulletin.objects.exists()
    assert refused.status_code == 403
    series = _series(tree)
    meeting_page = office.get(reverse("meetings:meeting", args=[setting.meeting.pk]))
    assert url in meeting_page.content.decode()
    answer = office.post(url)
    draft = Bulletin.objects.get()
    assert (draft.series, draft.meeting, draft.period) == (series, setting.meeting, "2017-12-08")
    assert answer["Location"] == reverse("bulletins:edit", args=[draft.pk])
    assert logged_in("reporter").post(url).status_code == 403
    assert Bulletin.objects.count() == 1
    assert office.get(url).status_code == 405
