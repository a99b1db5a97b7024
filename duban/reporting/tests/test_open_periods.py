"""Opening many reporting periods at once: from the data set page's picker (a year's months in
words, a quarter's months together, several data sets of the same type), through
`open_period`, all or nothing; a period already open is skipped and said."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from duban.audit.models import AuditEntry
from duban.indicators import services as ind_services
from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.errors import ReportingError
from duban.reporting.models import ReportingPeriod
from duban.testing import logged_in
from duban.testing_scan import ascii_identifiers

Q1 = ["201801", "201802", "201803"]


def data_set(tree, code: str, name: str, period_type: str = "monthly", owner=None):
    return ind_services.create_data_set(
        user=SYSTEM,
        owner=owner or tree.city,
        code=code,
        name_zh=name,
        name_en=code,
        period_type=period_type,
        indicators=[],
    )


def opened(*codes: str) -> list[tuple[str, str]]:
    return sorted(
        ReportingPeriod.objects.filter(data_set__code__in=codes).values_list(
            "data_set__code", "period"
        )
    )


def test_many_periods_of_two_data_sets_open_at_once_and_open_ones_are_skipped(
    form, tree, personas
) -> None:
    second = data_set(tree, "CITY-M2", "月报二")
    before = AuditEntry.objects.filter(action="reporting.reportingperiod.created").count()
    done = services.open_periods(
        [form.data_set, second], ["201712", *Q1], user=personas.province_office
    )
    assert [(rp.data_set.code, rp.period) for rp in done.opened] == [
        ("CITY-M", "201801"),
        ("CITY-M", "201802"),
        ("CITY-M", "201803"),
        ("CITY-M2", "201712"),
        ("CITY-M2", "201801"),
        ("CITY-M2", "201802"),
        ("CITY-M2", "201803"),
    ]
    assert [(d.code, p) for d, p in done.skipped] == [("CITY-M", "201712")]  # already open
    rp = ReportingPeriod.objects.get(data_set=second, period="201802")
    assert (str(rp.opens_on), rp.opened_by) == ("2018-02-01", personas.province_office)
    after = AuditEntry.objects.filter(action="reporting.reportingperiod.created").count()
    assert after - before == 7  # each period through open_period, audited


def test_one_period_that_cannot_open_refuses_the_whole_batch_by_name(form, tree, personas):
    quarterly = data_set(tree, "CITY-Q", "季报", "quarterly")
    with pytest.raises(ReportingError) as exc:
        services.open_periods([form.data_set, quarterly], Q1, user=personas.province_office)
    assert "季报 · 2018年1月 无法开放" in str(exc.value)
    assert "所选报告期均未开放" in str(exc.value)
    assert opened("CITY-M", "CITY-Q") == [("CITY-M", "201711"), ("CITY-M", "201712")]
    with pytest.raises(ReportingError, match="只有开放一张报表的一个报告期时"):
        services.open_periods(
            [form.data_set], Q1, user=personas.province_office, deadline=form_date()
        )
    other = data_set(tree, "OTHER-M", "外市月报", owner=tree.other_city)
    with pytest.raises(PermissionDenied):
        services.open_periods([form.data_set, other], Q1, user=personas.city_approver)
    assert opened("CITY-M", "OTHER-M") == [("CITY-M", "201711"), ("CITY-M", "201712")]


def form_date():
    from datetime import date

    return date(2018, 2, 10)


def test_the_picker_shows_a_years_periods_in_words_and_the_same_type_data_sets(
    form, tree, personas
):
    data_set(tree, "CITY-M2", "月报二")
    data_set(tree, "CITY-Q", "季报", "quarterly")
    office = logged_in("prov_office")
    html = office.get("/reporting/datasets/CITY-M/?year=2017").content.decode()
    picker = html[
        html.index('<section class="card open-periods-card"') : html.index('id="exception"')
    ]
    assert picker.count('name="periods"') == 12
    assert (
        'value="201711" data-in-group="all 2017Q4"> 2017年11月 <small>（已开放）</small>' in picker
    )
    assert 'data-group-of="2017Q4"> 2017年第4季度 全部' in picker
    assert 'value="CITY-M" checked> 月报' in picker and 'value="CITY-M2"> 月报二' in picker
    assert "季报" not in picker  # another period type
    assert ascii_identifiers(picker) == []  # periods and data sets in words only
    reporter = logged_in("county_reporter").get("/reporting/datasets/CITY-M/").content.decode()
    assert 'name="periods"' not in reporter


def test_the_page_opens_a_quarter_for_two_data_sets_and_says_what_was_open(
    form, tree, personas
) -> None:
    data_set(tree, "CITY-M2", "月报二")
    office = logged_in("prov_office")
    url = "/reporting/datasets/CITY-M/"
    r = office.post(
        url,
        {"do": "open", "year": "2018", "periods": Q1, "data_sets": ["CITY-M", "CITY-M2"]},
        follow=True,
    )
    text = r.content.decode()
    assert "已开放 6 个报告期：月报 2018年1月、2018年2月、2018年3月；月报二 2018年1月" in text
    assert r.redirect_chain[-1][0] == "/reporting/datasets/CITY-M/?year=2018"
    r = office.post(
        url, {"do": "open", "year": "2018", "periods": ["201801", "201804"], "data_sets": ["CITY-M"]},
        follow=True,
    )  # fmt: skip
    text = r.content.decode()
    assert "以下报告期原已开放，未作改动：月报 2018年1月" in text
    assert "已开放 1 个报告期：月报 2018年4月" in text
    assert ("CITY-M", "201804") in opened("CITY-M")


def test_the_page_refuses_by_field_keeping_what_was_chosen(form, tree, personas) -> None:
    office = logged_in("prov_office")
    url = "/reporting/datasets/CITY-M/"
    before = opened("CITY-M")
    r = office.post(
        url,
        {"do": "open", "year": "2018", "periods": Q1, "data_sets": ["CITY-M"],
         "deadline": "2018-02-10"},
    )  # fmt: skip
    text = r.content.decode()
    assert r.status_code == 400 and "只有开放一张报表的一个报告期时" in text
    assert "<code>上报期限</code>" in text
    assert 'value="201802" data-in-group="all 2018Q1" checked>' in text
    r = office.post(
        url, {"do": "open", "year": "2018", "periods": ["2018Q1"], "data_sets": ["CITY-M"]}
    )
    assert r.status_code == 400 and "不在可选的报告期中：2018Q1" in r.content.decode()
    r = office.post(url, {"do": "open", "year": "2018", "periods": Q1, "data_sets": ["NOPE"]})
    assert r.status_code == 400 and "您不能开放 NOPE 的报告期" in r.content.decode()
    r = office.post(url, {"do": "open", "year": "2018", "data_sets": ["CITY-M"]})
    assert r.status_code == 400 and "请至少选择一个报告期" in r.content.decode()
    assert opened("CITY-M") == before
