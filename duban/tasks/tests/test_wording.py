"""Task and meeting pages in words: the inbox's 发往单位, month and period pickers, the way a
task was done, checkboxes beside their labels; no ASCII identifier on these Chinese pages."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from duban.audit.labels import value_label
from duban.meetings import services as meeting_services
from duban.orgs.policy import SYSTEM
from duban.tasks import services
from duban.tasks.models import Reminder
from duban.tasks.tests.factories import make_task
from duban.testing import logged_in, make_user
from duban.testing_scan import ascii_identifiers

pytestmark = pytest.mark.django_db
FROZEN = "2017-07-10 10:00 +0800"


@time_machine.travel(FROZEN, tick=False)
def test_inbox_ledger_and_cadence_read_in_chinese(tree, personas) -> None:
    task = make_task(tree.city, tree.county_a, title="社区警务")
    make_user("city_office", tree.city, "office", full_name="市局督查员")
    services.issue_supervision(task, user=SYSTEM, message="请于五日内报告进展")
    assert Reminder.objects.count() == 1
    office = logged_in("city_office")
    inbox = office.get("/tasks/inbox/").content.decode()
    assert "发往单位" in inbox and "新上级" not in inbox
    assert ascii_identifiers(inbox) == []
    ledger = office.get("/tasks/ledger/").content.decode()
    assert 'type="month"' in ledger and "YYYYMM" not in ledger
    assert ascii_identifiers(ledger) == []
    picked = office.get("/tasks/ledger/?month=2017-12").content.decode()
    assert "社区警务" in picked and "请选择月份" not in picked
    bad = office.get("/tasks/ledger/?month=2017-13").content.decode()
    assert "请选择月份，如 2017年7月" in bad
    cadence = office.get(f"/meetings/cadence/{tree.city.code}/").content.decode()
    assert "YYYY" not in cadence and ">Q1" not in cadence
    assert '<option value="201707">2017年7月</option>' in cadence
    assert '<option value="2017Q3">2017年第3季度</option>' in cadence
    assert "201708" not in cadence  # nothing after today
    assert ascii_identifiers(cadence) == []


@time_machine.travel(FROZEN, tick=False)
def test_a_recorded_meeting_shows_its_period_in_words(tree, personas) -> None:
    make_user("city_office", tree.city, "office", full_name="市局督查员")
    meeting_services.set_cadence(tree.city, "monthly_bulletin", user=SYSTEM, since=date(2017, 1, 1))
    office = logged_in("city_office")
    r = office.post(
        f"/meetings/cadence/{tree.city.code}/",
        {"h-mechanism": "monthly_bulletin", "h-period": "201706", "h-held_on": "2017-06-20"},
    )
    assert r.status_code == 302
    page = office.get(f"/meetings/cadence/{tree.city.code}/").content.decode()
    assert "2017年6月 ✓" in page


@time_machine.travel(FROZEN, tick=False)
def test_how_a_task_was_done_reads_in_words_and_forms_load_the_checkbox_style(
    tree, personas
) -> None:
    task = make_task(tree.city, tree.county_a, title="社区警务")
    services.declare_done(task, user=SYSTEM)
    task.refresh_from_db()
    assert task.completed_via == "report"
    page = logged_in("city_leader").get(f"/tasks/{task.pk}/").content.decode()
    assert "牵头单位申报完成" in page, page[page.find("<dl") : page.find("</dl>")]
    assert value_label("tasks.task", "completed_via", "indicator") == "指标达到目标值"
    make_user("city_office", tree.city, "office", full_name="市局督查员")
    form = logged_in("city_office").get(f"/tasks/{task.pk}/edit/").content.decode()
    assert "tasks/tasks.css" in form


@time_machine.travel(FROZEN, tick=False)
def test_the_ledger_workbook_has_chinese_headers_numbers_and_a_frozen_header(
    tree, personas
) -> None:
    import io
    import re
    from datetime import datetime

    from openpyxl import load_workbook

    task = make_task(tree.city, tree.county_a, title="社区警务", due_date=date(2017, 7, 1))
    services.submit_report(task, user=SYSTEM, text="进度", percent=40, today=date(2017, 6, 20))
    for url in ("/tasks/ledger.xlsx", "/api/tasks/ledger.xlsx"):
        data = logged_in("city_leader").get(url).content
        ws = load_workbook(io.BytesIO(data)).active
        rows = [[c.value for c in r] for r in ws.iter_rows()]
        assert rows[0][0] == "任务台账（截至 2017-07-10）"
        assert isinstance(rows[1][1], datetime) and rows[1][1].date() == date(2017, 7, 10)
        header = next(i for i, r in enumerate(rows) if r[0] == "下发单位")
        assert all(not re.search("[A-Za-z]", str(h)) for h in rows[header])
        assert ws.freeze_panes == f"A{header + 2}"
        assert ws.auto_filter.ref.startswith(f"A{header + 1}:")
        body = rows[header + 1]
        assert body[3] == "社区警务"
        assert isinstance(body[5], datetime) and isinstance(body[6], datetime)
        numbers = [body[i] for i in (7, 8, 9, 10, 12, 13, 14, 15)]
        assert all(isinstance(n, int) for n in numbers), numbers
        assert (body[12], body[14]) == (40, 9)
