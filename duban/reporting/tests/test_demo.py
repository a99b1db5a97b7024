"""The demo: two years of invented monthly figures, with late, returned and missing forms."""

from __future__ import annotations

import pytest

from duban.demo.loader import load_demo
from duban.periods import parse_period
from duban.reporting.demo import load_reporting_demo
from duban.reporting.figures import overview, statuses
from duban.reporting.models import DataValue, State, Submission
from duban.reporting.rules import check_stored_rules


@pytest.mark.django_db
def test_demo_loads_two_years_with_every_kind_of_form_and_twice_changes_nothing() -> None:
    load_demo(activity=False)
    counts = load_reporting_demo()
    assert counts["data_sets"] == 2 and counts["values"] > 5000
    periods = set(DataValue.objects.values_list("period", flat=True))
    assert min(periods) == "201601" and max(periods) == "201712" and len(periods) == 24
    states = set(Submission.objects.values_list("state", flat=True))
    assert states == {State.DRAFT, State.SUBMITTED, State.RETURNED, State.APPROVED, State.LOCKED}
    assert Submission.objects.filter(state=State.RETURNED).exclude(return_reason="").exists()
    assert DataValue.objects.filter(
        indicator__code="traffic.yellow_removed", unit__code="YZ-JJZD"
    ).exists()
    assert DataValue.objects.filter(indicator__code="case.filed", unit__code="YZ-LST-MW").exists()
    from duban.indicators.models import DataSet
    from duban.orgs.models import OrgUnit

    ds = DataSet.objects.get(code="YZ-MONTHLY")
    yz = OrgUnit.objects.get(code="YZ")
    kinds = {s.status for s in statuses(ds, "201711", ds.reporting_units()).values()}
    assert {"late", "missing", "on_time"} <= kinds
    data = overview(ds, yz, parse_period("201711"))
    assert data["figures"]["case.clearance"] is not None
    for sub in Submission.objects.filter(data_set=ds, period="201706").select_related(
        "data_set", "unit"
    ):
        assert check_stored_rules(sub) == []
    before = DataValue.objects.count()
    assert load_reporting_demo() == {"data_sets": 0, "values": 0, "forms": 0}
    assert DataValue.objects.count() == before


@pytest.mark.once
@pytest.mark.django_db
def test_demo_pages_render_for_each_demo_role() -> None:
    from django.test import Client

    from duban.demo.loader import DEMO_PASSWORD

    load_demo(activity=False)
    load_reporting_demo()
    pages = {
        "lst_reporter": [
            "/reporting/",
            "/reporting/forms/YZ-MONTHLY/YZ-LST/201711/",
            "/reporting/forms/YZ-MONTHLY/YZ-LST/201711/template.xlsx",
            "/reporting/overview/YZ-MONTHLY/YZ-LST/201711/",
        ],
        "yz_approver": [
            "/reporting/",
            "/reporting/overview/YZ-MONTHLY/YZ/201711/",
            "/reporting/overview/YZ-MONTHLY/YZ/2017/",
            "/reporting/forms/YZ-MONTHLY/YZ-LL/201710/",
            "/reporting/datasets/YZ-MONTHLY/",
        ],
        "yz_office": [
            "/reporting/datasets/YZ-MONTHLY/",
            "/indicators/",
            "/indicators/case.clearance/",
            "/indicators/datasets/YZ-MONTHLY/",
            "/reporting/export/",
        ],
        "yz_traffic": ["/reporting/forms/YZ-MONTHLY/YZ-JJZD/201712/"],
        "xa_reporter": ["/reporting/", "/reporting/forms/SX-MONTHLY/SX-XA/201712/"],
        "sx_leader": ["/reporting/overview/SX-MONTHLY/SX/2017Q4/"],
    }
    for username, urls in pages.items():
        client = Client()
        assert client.login(username=username, password=DEMO_PASSWORD)
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, (username, url, r.status_code)
    body = Client()
    body.login(username="yz_approver", password=DEMO_PASSWORD)
    body.cookies["django_language"] = "en"
    page = body.get("/reporting/overview/YZ-MONTHLY/YZ/201711/").content.decode()
    assert "invented" in page and "missing" in page and "late" in page
