"""The objection form picks the item by name and, refused, keeps what was typed."""

from __future__ import annotations

from datetime import date
from typing import Any

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from duban.evaluation import services
from duban.evaluation.models import Objection
from duban.orgs.policy import SYSTEM
from duban.testing import PASSWORD, make_user


def test_a_refused_objection_keeps_the_text_and_asks_for_the_file_again(
    scheme: Any, tree: Any
) -> None:
    with time_machine.travel(date(2018, 1, 10), tick=False):
        pub = services.publish_results(
            scheme, "2017Q1", user=SYSTEM, objection_deadline=date(2018, 1, 20)
        )
    make_user("a_office", tree.county_a, "office")
    client = Client()
    client.login(username="a_office", password=PASSWORD)
    with time_machine.travel(date(2018, 1, 12), tick=False):
        page = client.get(f"/evaluation/publications/{pub.pk}/").content.decode()
        assert '<option value="solved">破案数</option>' in page
        answer = client.post(f"/evaluation/publications/{pub.pk}/objections/", {
            "unit": "COUNTY-A", "item": "solved", "text": "3月数据漏报",
            "evidence": SimpleUploadedFile("run.exe", b"MZ"),
        })  # fmt: skip
    html = answer.content.decode()
    assert answer.status_code == 400
    assert ">3月数据漏报</textarea>" in html
    assert '<option value="solved" selected>破案数</option>' in html
    assert "附件“run.exe”未能保留，请重新选择。" in html
    assert not Objection.objects.exists()
