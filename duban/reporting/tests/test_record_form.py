"""The form of a unit with a record indicator: the records' proposal pre-filled and marked,
confirmed by saving, corrected only with a reason, flagged when the records change later —
real POSTs through the test client."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from duban import testing
from duban.indicators import services as ind_services
from duban.orgs.policy import SYSTEM
from duban.records.models import RecordType
from duban.records.proposals import recompute_record_indicators
from duban.reporting import services
from duban.reporting.models import DataValue
from duban.reporting.tests.conftest import db_dump, values_of
from duban.testing import logged_in

URL = "/reporting/forms/REC-M/COUNTY-A/201712/"


_numbers = itertools.count(1)


def add_records(unit, *days: str) -> None:
    testing.make_records([(f"C{next(_numbers)}", "case_filed", unit, d, "", "1") for d in days])


@pytest.fixture
def record_form(tree, personas):
    RecordType.objects.create(code="case_filed", name_zh="立案", name_en="Case filed")
    ind = ind_services.create_indicator(
        user=SYSTEM,
        issuer=tree.city,
        code="case.filed.rec",
        name_zh="立案数（业务记录）",
        name_en="Cases filed (records)",
        value_type="integer",
        levels=["county", "station"],
        kinds=["territorial"],
        record_type=RecordType.objects.get(code="case_filed"),
    )
    ds = ind_services.create_data_set(
        user=SYSTEM,
        owner=tree.city,
        code="REC-M",
        name_zh="记录月报",
        period_type="monthly",
        expiry_days=0,
        indicators=["case.filed.rec"],
    )
    services.open_period(ds, "201712", user=SYSTEM)
    # COUNTY-A: two of its own, one of STATION-A1 below it; 12-31 of 201712, 11-30 not.
    add_records(tree.county_a, "2017-12-01", "2017-12-31", "2017-11-30")
    add_records(tree.station_a1, "2017-12-15")
    recompute_record_indicators(user=SYSTEM, indicators=[ind])
    return ind


def stored(tree, ind) -> DataValue | None:
    return DataValue.objects.filter(unit=tree.county_a, indicator=ind, period="201712").first()


def test_the_proposal_is_prefilled_and_marked(record_form, tree) -> None:
    page = logged_in("county_reporter").get(URL).content.decode()
    assert 'name="v:case.filed.rec"' in page
    assert 'value="3"><input type="hidden" name="iv:case.filed.rec" value="">' in page
    assert "据 3 条业务记录建议：3" in page


def test_saving_confirms_the_proposal(record_form, tree) -> None:
    client = logged_in("county_reporter")
    r = client.post(
        URL, {"v:case.filed.rec": "3", "iv:case.filed.rec": "", "version": "0", "do": "save"}
    )
    assert r.status_code == 302
    assert values_of(tree.county_a, "201712") == {"case.filed.rec": Decimal(3)}
    page = client.get(URL).content.decode()
    assert "业务记录为" not in page  # confirmed: no flag


def test_a_correction_without_a_reason_is_refused_and_nothing_written(record_form, tree) -> None:
    client = logged_in("county_reporter")
    before = db_dump()
    r = client.post(
        URL,
        {
            "v:case.filed.rec": "5",
            "iv:case.filed.rec": "",
            "c:case.filed.rec": "",
            "ic:case.filed.rec": "",
            "version": "0",
            "do": "save",
        },
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert "立案数（业务记录）：业务记录为 3（3 条）" in page and "备注" in page
    assert db_dump() == before


def test_a_correction_with_its_reason_is_written(record_form, tree) -> None:
    client = logged_in("county_reporter")
    r = client.post(
        URL,
        {
            "v:case.filed.rec": "5",
            "iv:case.filed.rec": "",
            "c:case.filed.rec": "两起警情系线下补录，未入系统",
            "ic:case.filed.rec": "",
            "version": "0",
            "do": "save",
        },
    )
    assert r.status_code == 302
    figure = stored(tree, record_form)
    assert figure.value == 5 and figure.comment == "两起警情系线下补录，未入系统"
    # The comment cannot then be taken away while the figure still differs.
    r = client.post(
        URL,
        {"c:case.filed.rec": "", "ic:case.filed.rec": figure.comment, "version": "1"},
    )
    assert r.status_code == 400
    assert stored(tree, record_form).comment == "两起警情系线下补录，未入系统"


def test_a_confirmed_figure_the_records_no_longer_give_is_flagged(record_form, tree) -> None:
    client = logged_in("county_reporter")
    client.post(URL, {"v:case.filed.rec": "3", "iv:case.filed.rec": "", "version": "0"})
    add_records(tree.station_a1, "2017-12-16")
    recompute_record_indicators(user=SYSTEM, indicators=[record_form])
    page = client.get(URL).content.decode()
    assert "业务记录为 4" in page and "proposal-differs" in page
    assert 'value="3"' in page  # the stored figure stays in the box until he changes it
    api = client.get("/api/reporting/forms/REC-M/COUNTY-A/201712").json()
    [row] = api["rows"]
    assert (row["value"], row["proposed"], row["proposed_records"], row["differs"]) == (
        "3",
        "4",
        4,
        True,
    )


def test_the_service_refuses_a_correction_without_a_reason_from_any_caller(
    record_form, tree, personas
) -> None:
    with pytest.raises(services.ReportingError) as refused:
        services.save_form(
            record_form.memberships.get().data_set,
            tree.county_a,
            "201712",
            {"case.filed.rec": "2"},
            user=personas.county_reporter,
        )
    [problem] = refused.value.problems
    assert problem.where == "case.filed.rec"
    assert stored(tree, record_form) is None
