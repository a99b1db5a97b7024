"""Migrations records 0004 and 0005: the records held in the old table move to the record
store, one file per import, with their content; the old proposals are forgotten (derived)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from duban.records import store
from duban.records.models import ProposalPeriod, RecordImport

OLD = [("records", "0003_proposals")]
NEW = [("records", "0005_proposals_in_store")]


def migrate(target: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_the_old_table_moves_to_the_store_and_the_proposals_are_forgotten() -> None:
    apps = migrate(OLD)
    Unit = apps.get_model("orgs", "OrgUnit")
    Type = apps.get_model("records", "RecordType")
    Import = apps.get_model("records", "RecordImport")
    Record = apps.get_model("records", "BusinessRecord")
    Indicator = apps.get_model("indicators", "Indicator")
    Period = apps.get_model("records", "ProposalPeriod")
    unit = Unit.objects.create(code="MIG", name_zh="迁移局", level="county", kind="territorial",
                               path="/MIG/", depth=0)  # fmt: skip
    kind = Type.objects.create(code="case_filed", name_zh="立案")
    a, b = (
        Import.objects.create(file_name=f"{n}.csv", sha256=n * 64, file_format="csv",
                              state="applied")
        for n in "ab"
    )  # fmt: skip
    Record.objects.create(record_id="M1", record_type=kind, unit=unit, occurred_on=date(2024, 1, 5),
                          grade="", quantity=Decimal("1"), attributes={"place": "东街"}, source=a)  # fmt: skip
    Record.objects.create(record_id="M2", record_type=kind, unit=unit, occurred_on=date(2024, 2, 6),
                          grade="A", quantity=Decimal("2.5"), attributes={}, source=b)  # fmt: skip
    ind = Indicator.objects.create(code="mig.filed", name_zh="立案数", value_type="integer",
                                   issuer=unit, record_type=kind)  # fmt: skip
    Period.objects.create(indicator=ind, period="202401", computed_at=timezone.now())
    try:
        migrate(NEW)
        moved = {i.file_name: i.stored_as for i in RecordImport.objects.all()}
        assert all(moved.values()) and len(set(moved.values())) == 2  # one file per import
        rows = store.read()
        assert [(r[0], r[3], r[4], r[5], json.loads(r[6])) for r in rows] == [
            ("M1", date(2024, 1, 5), "", Decimal("1"), {"place": "东街"}),
            ("M2", date(2024, 2, 6), "A", Decimal("2.5"), {}),
        ]
        assert not ProposalPeriod.objects.exists()
        assert "records_businessrecord" not in connection.introspection.table_names()
    finally:
        with connection.cursor() as cur:
            for table in ("records_proposalperiod", "records_recordimport",
                          "indicators_indicator", "records_recordtype", "orgs_orgunit"):  # fmt: skip
                cur.execute(f"DELETE FROM {table}")
        migrate(NEW)
