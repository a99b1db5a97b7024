"""Drafting, editing, issuing and correcting documents; what each reader may see."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from duban.bulletins import access, render, services
from duban.bulletins.models import Bulletin, BulletinState, IssuedFile, Series
from duban.bulletins.numbering import (
    date_written,
    document_number,
    index_number,
    parse_document_number,
)
from duban.bulletins.services import BulletinError
from duban.errors import DubanError
from duban.meetings.cadence import bulletins_issued
from duban.orgs.policy import SYSTEM
from duban.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("prefix", "year", "seq", "expected"),
    [("陕公改办通", 2018, 7, "陕公改办通〔2018〕7号"), ("公发", 2017, 6, "公发〔2017〕6号"),
     ("永公通", 2017, 12, "永公通〔2017〕12号")],
)  # fmt: skip
def test_document_number_as_gbt9704_writes_it(
    prefix: str, year: int, seq: int, expected: str
) -> None:
    assert document_number(prefix, year, seq) == expected
    assert parse_document_number(expected) == (prefix, year, seq)


def test_numbers_have_no_leading_zero_and_no_di() -> None:
    with pytest.raises(ValueError):
        parse_document_number("陕公改办通〔2018〕07号")
    with pytest.raises(ValueError):
        parse_document_number("陕公改办通〔2018〕第7号")
    with pytest.raises(ValueError):
        document_number("陕公改办通", 2018, 0)


def test_index_number_and_date_written() -> None:
    assert index_number("431100051", 2017, 4796) == "431100051/2017-04796"
    assert date_written(date(2017, 12, 8)) == "2017年12月8日"
    assert date_written(date(2024, 5, 1)) == "2024年5月1日"


def test_monthly_draft_totals_come_from_the_summed_figures(monthly: Series, office: Any) -> None:
    """February, year to date: COUNTY-A 30+30 = 60 of 100, COUNTY-B 20+20 = 40 of 100, CITY
    nothing of 100, STATION-A1 nothing of 50. The province's total: done 60 + 40 = 100 of
    task 100 + 100 + 100 + 50 = 350 → 28.57% — not the mean of the units' rates (50%)."""
    draft = services.create_draft(monthly, user=office, period="201702")
    progress = draft.content["progress"]
    assert (progress["total"]["done"], progress["total"]["target"]) == ("100", "350")
    assert Decimal(progress["total"]["rate"]) == Decimal("28.57")
    rows = {r["code"]: r for r in draft.content["ranking"]}
    assert Decimal(rows["COUNTY-A"]["rate"]) == 60
    assert rows["COUNTY-A"]["band"] == "above50"
    assert rows["COUNTY-B"]["band"] == "below50"
    assert rows["CITY"]["band"] is None  # no figure: listed as not reported
    assert draft.title == "关于2017年2月全省公安机关绩效考评情况的通报"
    doc = render.compose(draft)
    assert doc.draft and doc.number is None
    table = doc.tables()[0]
    assert table.total_rows == 1
    assert table.rows[0][1] == "全省合计"
    assert table.rows[0][4:] == [Decimal("350"), Decimal("100"), Decimal("28.57")]


def test_a_month_is_needed_for_a_monthly_bulletin(monthly: Series, office: Any) -> None:
    with pytest.raises(DubanError) as refused:
        services.create_draft(monthly, user=office, period="2017Q1")
    assert refused.value.problems[0].where == "period"
    assert not Bulletin.objects.exists()


def test_the_office_edits_text_parts_and_the_figures_stay(monthly: Series, office: Any) -> None:
    draft = services.create_draft(monthly, user=office, period="201702")
    before = dict(draft.content)
    services.edit_draft(draft, user=office, texts={"next_steps": "一、抓落实。\n二、补短板。"})
    draft.refresh_from_db()
    assert draft.content == before
    paragraphs = [
        b.text for b in render.compose(draft).body if hasattr(b, "key") and b.key == "next_steps"
    ]
    assert paragraphs == ["一、抓落实。", "二、补短板。"]


def test_an_unknown_text_part_is_refused_by_name(monthly: Series, office: Any) -> None:
    draft = services.create_draft(monthly, user=office, period="201702")
    with pytest.raises(BulletinError) as refused:
        services.edit_draft(draft, user=office, texts={"opening": "新导语", "bogus": "x"})
    assert [p.where for p in refused.value.problems] == ["bogus"]
    draft.refresh_from_db()
    assert draft.texts == {}  # all or nothing: the good part was not kept either


def test_issuing_twice_gives_two_numbers(monthly: Series, office: Any) -> None:
    first = services.issue(
        services.create_draft(monthly, user=office, period="201701"), user=office
    )
    second = services.issue(
        services.create_draft(monthly, user=office, period="201702"), user=office
    )
    assert (first.number, second.number) == ("某公改办通〔2017〕1号", "某公改办通〔2017〕2号")
    assert (first.index_number, second.index_number) == (
        "610000018/2017-00001",
        "610000018/2017-00002",
    )
    assert IssuedFile.objects.filter(bulletin=second).count() == 3


def test_an_issued_document_cannot_change(monthly: Series, office: Any) -> None:
    issued = services.issue(
        services.create_draft(monthly, user=office, period="201702"), user=office
    )
    with pytest.raises(BulletinError):
        services.edit_draft(issued, user=office, title="改过的标题")
    with pytest.raises(BulletinError):
        services.refresh_draft(issued, user=office)
    with pytest.raises(BulletinError):
        services.issue(issued, user=office)
    again = Bulletin.objects.get(pk=issued.pk)
    again.title = "改过的标题"
    with pytest.raises(ValueError):
        again.save()  # not even below the services
    with pytest.raises(ValueError):
        Bulletin.objects.get(pk=issued.pk).delete()
    assert Bulletin.objects.get(pk=issued.pk).title == issued.title


def test_a_correction_is_a_new_number_that_names_the_old(monthly: Series, office: Any) -> None:
    issued = services.issue(
        services.create_draft(monthly, user=office, period="201702"), user=office
    )
    fixed = services.issue(services.correct(issued, user=office), user=office)
    assert fixed.number == "某公改办通〔2017〕2号"
    assert fixed.corrects == issued
    assert any("某公改办通〔2017〕1号" in note for note in render.compose(fixed).notes)
    assert Bulletin.objects.get(pk=issued.pk).state == BulletinState.ISSUED


def test_readers_in_the_lineage_read_issued_documents_only(
    tree: Any, monthly: Series, office: Any
) -> None:
    draft = services.create_draft(monthly, user=office, period="201702")
    county = make_user("county_reporter", tree.county_a, "reporter")
    outsider = make_user("outsider", tree.other_city, "leader")
    with pytest.raises(PermissionDenied):
        access.require_view(county, draft)
    issued = services.issue(draft, user=office)
    access.require_view(county, issued)
    assert list(access.visible_bulletins(county)) == [issued]
    with pytest.raises(PermissionDenied):
        access.require_view(outsider, issued)
    assert not access.visible_bulletins(outsider).exists()
    with pytest.raises(PermissionDenied):
        services.create_draft(monthly, user=county, period="201702")


def test_the_cadence_counts_issued_bulletins(tree: Any, monthly: Series, office: Any) -> None:
    draft = services.create_draft(monthly, user=office, period="201702")
    assert bulletins_issued(tree.province, date(2017, 3, 1), date(2017, 3, 31)) == []
    issued = services.issue(draft, user=office)
    assert bulletins_issued(tree.province, date(2017, 3, 1), date(2017, 3, 31)) == [
        (date(2017, 3, 8), issued.number)
    ]


def test_quarterly_review_prefills_a_comment_per_unit(quarterly: Series, office: Any) -> None:
    draft = services.create_draft(quarterly, user=office, period="2017Q1")
    parts = {p.key: p.default for p in render.text_parts(draft)}
    assert "排名第" in parts["unit:COUNTY-A"]
    assert "重点任务均未逾期" in parts["unit:COUNTY-A"]
    headings = [b.text for b in render.compose(draft).body if type(b).__name__ == "Heading"]
    assert "（一）" in headings[2]


def test_the_system_issues_from_the_shell(monthly: Series) -> None:
    issued = services.issue(
        services.create_draft(monthly, user=SYSTEM, period="201702"), user=SYSTEM
    )
    assert issued.issued_by is None and issued.number


def test_the_trend_is_the_parents_rate_month_by_month(monthly: Series, office: Any) -> None:
    """January: 30 + 20 = 50 of 350 → 14.29%; February: 100 of 350 → 28.57%."""
    draft = services.create_draft(monthly, user=office, period="201702")
    assert draft.content["progress"]["trend"] == [["201701", "14.29"], ["201702", "28.57"]]
    charts = render.compose(draft).charts()
    assert len(charts) == 3  # the trend, the ranking, the progress of each unit
    trend = charts[0].chart
    assert trend.categories == ["1月", "2月"]  # the year is the bulletin's: not 2017年 each


def test_a_trend_across_years_writes_the_year_where_it_changes() -> None:
    from duban.bulletins.monthly import _month_labels

    assert _month_labels(["201611", "201612", "201701"]) == ["2016年11月", "12月", "2017年1月"]
    assert _month_labels([]) == []
