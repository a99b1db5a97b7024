"""Publication for review, objections inside the window, rulings, finalising, freezing."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import translation

from duban.audit.models import AuditEntry
from duban.errors import DubanError
from duban.evaluation import services
from duban.evaluation.models import Publication
from duban.evaluation.tests.conftest import put
from duban.orgs.policy import SYSTEM
from duban.testing import make_user

DAY = date(2018, 1, 10)


@pytest.fixture
def pub(scheme, tree) -> Publication:
    with time_machine.travel(DAY, tick=False):
        return services.publish_results(
            scheme, "2017Q1", user=SYSTEM, objection_deadline=date(2018, 1, 20)
        )


def test_publishing_freezes_a_snapshot_and_records_it(pub) -> None:
    totals = {u["code"]: u["total"] for u in pub.snapshot["zh"]["units"]}
    assert totals["COUNTY-A"] == "20.00"  # 12 (60%) + 8 (2nd on the poll)
    assert AuditEntry.objects.filter(action="evaluation.results.published").count() == 1
    assert pub.values and services.differences(pub) == []


def test_a_later_data_change_shows_as_a_difference_never_as_a_rewrite(pub) -> None:
    put("COUNTY-A", "t.solved", "201703", 40)
    pub.refresh_from_db()
    assert {u["code"]: u["total"] for u in pub.snapshot["zh"]["units"]}["COUNTY-A"] == "20.00"
    diffs = services.differences(pub)
    assert ("COUNTY-A", "solved", "12.00", "20.00") in {
        (d.unit, d.item, d.published, d.current) for d in diffs
    }
    assert ("COUNTY-A", "", "20.00", "28.00") in {
        (d.unit, d.item, d.published, d.current) for d in diffs
    }


def test_objection_window_includes_its_last_day(pub, tree) -> None:
    office = make_user("a_office", tree.county_a, "office")
    with time_machine.travel(date(2018, 1, 20), tick=False):
        objection = services.lodge_objection(pub, user=office, unit=tree.county_a, item="solved",
                                             text="3月数据漏报", evidence=("case.txt", b"list"))  # fmt: skip
    assert objection.sha256 and objection.evidence_name == "case.txt"
    with time_machine.travel(date(2018, 1, 21), tick=False), pytest.raises(DubanError) as caught:
        services.lodge_objection(pub, user=office, unit=tree.county_a, text="again")
    assert caught.value.status == 409


def test_objection_only_for_ones_own_unit_and_item(pub, tree) -> None:
    office = make_user("a_office", tree.county_a, "office")
    with time_machine.travel(DAY, tick=False):
        with pytest.raises(PermissionDenied):
            services.lodge_objection(pub, user=office, unit=tree.county_b, text="x")
        with pytest.raises(DubanError) as caught:
            services.lodge_objection(pub, user=office, unit=tree.county_a, item="nope", text="")
    assert {p.where for p in caught.value.problems} == {"item", "text"}


def test_ruling_needs_a_reason_and_finalising_waits(pub, tree, personas) -> None:
    office = make_user("a_office", tree.county_a, "office")
    with time_machine.travel(DAY, tick=False):
        objection = services.lodge_objection(pub, user=office, unit=tree.county_a, text="漏报")
        with pytest.raises(DubanError) as caught:
            services.rule_objection(
                objection, user=personas.province_office, upheld=True, reason=" "
            )
        # Chinese first, in the user's language when he chose English
        assert [(p.where, p.message) for p in caught.value.problems] == [
            ("reason", "裁定须写明理由")
        ]
        with translation.override("en"), pytest.raises(DubanError) as caught:
            services.rule_objection(
                objection, user=personas.province_office, upheld=True, reason=" "
            )
        assert caught.value.problems[0].message == "a ruling needs a reason"
        with pytest.raises(DubanError) as caught:  # the window is open
            services.finalise_publication(pub, user=personas.province_office)
        assert caught.value.problems[0].message == "异议受理至 2018-01-20 截止"
    with time_machine.travel(date(2018, 1, 21), tick=False):
        with pytest.raises(DubanError) as caught:  # an objection is open
            services.finalise_publication(pub, user=personas.province_office)
        assert caught.value.problems[0].message == "还有 1 条异议未裁定，请先裁定"
        with pytest.raises(PermissionDenied):  # only the issuing office rules
            services.rule_objection(objection, user=office, upheld=False, reason="no")
        services.rule_objection(
            objection, user=personas.province_office, upheld=True, reason="核实属实"
        )
        put("COUNTY-A", "t.solved", "201703", 40)
        services.refresh_publication(
            pub, user=personas.province_office, reason="异议成立，更正3月数据"
        )
        final = services.finalise_publication(pub, user=personas.province_office)
    assert final.state == "final"
    totals = {u["code"]: u["total"] for u in final.snapshot["zh"]["units"]}
    assert totals["COUNTY-A"] == "28.00"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"evaluation.objection.lodged", "evaluation.objection.ruled", "evaluation.results.refreshed",
            "evaluation.results.finalised"} <= actions  # fmt: skip
    with pytest.raises(DubanError):
        services.refresh_publication(final, user=personas.province_office, reason="x")
