"""The document pages as the office and its readers use them: draft, edit, issue, read, download."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from django.urls import reverse

from duban.bulletins.models import Bulletin, BulletinState, Series
from duban.testing import logged_in, make_user

pytestmark = pytest.mark.django_db


def _draft(client: Any, series: Series, period: str = "201702") -> Bulletin:
    answer = client.post(reverse("bulletins:new"), {"series": series.pk, "period": period})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    bulletin = Bulletin.objects.get(series=series, period=period)
    assert answer["Location"] == reverse("bulletins:edit", args=[bulletin.pk])
    return bulletin


def _messages(answer: Any) -> list[str]:
    return [str(m) for m in answer.context["messages"]]


def test_the_new_document_form_offers_the_series_and_the_months_begun(
    monthly: Series, office: Any
) -> None:
    """On 8 March 2017 the picker offers 2017年3月 … 2017年1月 and 2017年第1季度, not April."""
    page = logged_in("prov_office").get(reverse("bulletins:new")).content.decode()
    assert "某省公安厅改革办公室" in page
    assert 'value="201703"' in page and 'value="201701"' in page and 'value="2017Q1"' in page
    assert 'value="201704"' not in page


def test_the_office_drafts_edits_and_issues_in_three_posts(monthly: Series, office: Any) -> None:
    client = logged_in("prov_office")
    bulletin = _draft(client, monthly)
    edit = client.get(reverse("bulletins:edit", args=[bulletin.pk]))
    assert edit.status_code == 200
    form = edit.context["form"]
    data = {k: form.initial.get(k, "") for k in form.fields}
    data.update(title="关于2017年2月全省执法办案工作情况的通报", date_written="2017-03-08")
    data[form.part_keys[0]] = "二月份，各地扎实推进。"
    saved = client.post(reverse("bulletins:edit", args=[bulletin.pk]), data)
    assert saved.status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.texts[form.part_keys[0]] == "二月份，各地扎实推进。"
    assert bulletin.title == "关于2017年2月全省执法办案工作情况的通报"

    issued = client.post(reverse("bulletins:issue", args=[bulletin.pk]), follow=True)
    bulletin.refresh_from_db()
    assert bulletin.state == BulletinState.ISSUED
    assert bulletin.number == "某公改办通〔2017〕1号"
    assert bulletin.index_number == "610000018/2017-00001"
    page = issued.content.decode()
    assert "某公改办通〔2017〕1号" in page and "二月份，各地扎实推进。" in page


def test_an_issued_document_offers_no_edit_and_refuses_one(monthly: Series, office: Any) -> None:
    client = logged_in("prov_office")
    bulletin = _draft(client, monthly)
    client.post(reverse("bulletins:issue", args=[bulletin.pk]))
    assert client.get(reverse("bulletins:edit", args=[bulletin.pk])).status_code == 403
    page = client.get(reverse("bulletins:document", args=[bulletin.pk])).content.decode()
    assert reverse("bulletins:edit", args=[bulletin.pk]) not in page
    answer = client.post(reverse("bulletins:delete", args=[bulletin.pk]), follow=True)
    assert Bulletin.objects.filter(pk=bulletin.pk).exists()
    assert _messages(answer), "the refusal is said, not swallowed"


def test_a_county_reads_the_issued_document_and_downloads_every_format(
    tree: Any, monthly: Series, office: Any
) -> None:
    from docx import Document
    from openpyxl import load_workbook

    office_client = logged_in("prov_office")
    bulletin = _draft(office_client, monthly)
    make_user("county_reporter", tree.county_a, "reporter")
    county = logged_in("county_reporter")
    assert county.get(reverse("bulletins:document", args=[bulletin.pk])).status_code == 403
    assert bulletin.title not in county.get(reverse("bulletins:list")).content.decode()

    office_client.post(reverse("bulletins:issue", args=[bulletin.pk]))
    listing = county.get(reverse("bulletins:list")).content.decode()
    for shown in ("610000018/2017-00001", "工作通报", "某省公安厅改革办公室", "2017-03-08",
                  "某公改办通〔2017〕1号"):  # fmt: skip
        assert shown in listing
    files = {}
    for fmt in ("docx", "pdf", "xlsx"):
        answer = county.get(reverse("bulletins:file", args=[bulletin.pk, fmt]))
        assert answer.status_code == 200
        assert "attachment" in answer["Content-Disposition"]
        files[fmt] = b"".join(answer.streaming_content) if answer.streaming else answer.content
    assert files["pdf"].startswith(b"%PDF-")
    text = "\n".join(p.text for p in Document(BytesIO(files["docx"])).paragraphs)
    assert "某公改办通〔2017〕1号" in text
    book = load_workbook(BytesIO(files["xlsx"]))
    assert book.sheetnames
    assert county.get(reverse("bulletins:file", args=[bulletin.pk, "exe"])).status_code == 404
    # The reader cannot issue, edit or correct.
    for name in ("edit", "correct", "refresh", "delete"):
        assert county.post(reverse(f"bulletins:{name}", args=[bulletin.pk])).status_code == 403


def test_an_outsider_reads_nothing(tree: Any, monthly: Series, office: Any) -> None:
    office_client = logged_in("prov_office")
    bulletin = _draft(office_client, monthly)
    office_client.post(reverse("bulletins:issue", args=[bulletin.pk]))
    make_user("outsider", tree.other_city, "leader")
    outsider = logged_in("outsider")
    assert bulletin.title not in outsider.get(reverse("bulletins:list")).content.decode()
    assert outsider.get(reverse("bulletins:document", args=[bulletin.pk])).status_code == 403
    assert outsider.get(reverse("bulletins:file", args=[bulletin.pk, "pdf"])).status_code == 403
    assert outsider.get(reverse("bulletins:new")).status_code == 403


def test_a_correction_from_the_page_names_the_document_it_corrects(
    monthly: Series, office: Any
) -> None:
    client = logged_in("prov_office")
    first = _draft(client, monthly)
    client.post(reverse("bulletins:issue", args=[first.pk]))
    answer = client.post(reverse("bulletins:correct", args=[first.pk]))
    correction = Bulletin.objects.get(corrects=first)
    assert answer["Location"] == reverse("bulletins:edit", args=[correction.pk])
    client.post(reverse("bulletins:issue", args=[correction.pk]))
    correction.refresh_from_db()
    assert correction.number == "某公改办通〔2017〕2号"
    page = client.get(reverse("bulletins:document", args=[correction.pk])).content.decode()
    assert "某公改办通〔2017〕1号" in page
