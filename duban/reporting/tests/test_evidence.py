"""Evidence files: checked for type (by extension and content) and size; downloads are scoped."""

from __future__ import annotations

import pytest
from django.test import Client

from duban.orgs.policy import SYSTEM
from duban.reporting import services
from duban.reporting.errors import ReportingConflict, ReportingError
from duban.reporting.models import Evidence, State, Submission
from duban.reporting.tests.conftest import TODAY
from duban.testing import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def sub(form, tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    services.save_form(
        form.data_set, tree.county_a, "201712", {"case.filed": "3"}, user=SYSTEM, today=TODAY
    )
    return Submission.objects.get(unit=tree.county_a)


def test_a_pdf_is_kept_with_the_form_or_a_figure(sub, form, personas) -> None:
    ev = services.attach_evidence(
        sub, "立案清单.pdf", PDF, user=personas.county_reporter, indicator=form.filed
    )
    assert ev.size == len(PDF) and ev.content_type == "application/pdf" and ev.file.read() == PDF


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("virus.exe", b"MZ....", "不接受 .exe 类型的文件"),
        ("fake.pdf", b"MZ....", "看起来不是 .pdf 文件"),
        ("photo.png", PDF, "看起来不是 .png 文件"),
        ("empty.txt", b"", "是空文件"),
        ("bin.txt", b"\x00\x01\x02", "不是文本文件"),
    ],
)
def test_wrong_types_are_refused(sub, personas, name: str, data: bytes, message: str) -> None:
    with pytest.raises(ReportingError, match=message):
        services.attach_evidence(sub, name, data, user=personas.county_reporter)
    assert not Evidence.objects.exists()


def test_size_limit(sub, personas, settings) -> None:
    settings.DUBAN_EVIDENCE_MAX_BYTES = 100
    with pytest.raises(ReportingError, match="上限为 100 字节"):
        services.attach_evidence(sub, "big.pdf", PDF + b"0" * 200, user=personas.county_reporter)


def test_no_evidence_once_submitted(sub, personas) -> None:
    Submission.objects.filter(pk=sub.pk).update(state=State.SUBMITTED)
    with pytest.raises(ReportingConflict):
        services.attach_evidence(sub, "a.pdf", PDF, user=personas.county_reporter)


def test_download_is_an_attachment_for_those_who_see_the_unit(sub, personas) -> None:
    ev = services.attach_evidence(sub, "a.pdf", PDF, user=personas.county_reporter)
    for username, status in (("city_approver", 200), ("sibling_reporter", 403), ("outsider", 403)):
        client = Client()
        client.login(username=username, password=PASSWORD)
        for url in (f"/reporting/evidence/{ev.pk}/", f"/api/reporting/evidence/{ev.pk}"):
            r = client.get(url)
            assert r.status_code == status, (username, url)
            if status == 200:
                assert r["Content-Disposition"].startswith("attachment")
                assert r["Content-Type"] == "application/octet-stream"
                assert b"".join(r.streaming_content) == PDF


def test_upload_over_http(sub, form, personas) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = Client()
    client.login(username="county_reporter", password=PASSWORD)
    r = client.post(
        "/api/reporting/forms/CITY-M/COUNTY-A/201712/evidence",
        {"file": SimpleUploadedFile("x.exe", b"MZ"), "indicator": ""},
    )
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "file"
    r = client.post(
        "/reporting/forms/CITY-M/COUNTY-A/201712/evidence/",
        {"file": SimpleUploadedFile("list.pdf", PDF), "indicator": "case.filed"},
    )
    assert r.status_code == 302
    assert Evidence.objects.get().indicator == form.filed
