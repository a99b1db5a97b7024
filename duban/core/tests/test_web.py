"""The shared web layer: downloads named for any language, uploads refused before reading."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from duban.errors import DubanError
from duban.web import actor, attachment, download, read_upload, xlsx_response


def test_a_chinese_file_name_is_sent_as_filename_star() -> None:
    header = attachment("任务台账-2026.xlsx")
    assert header.startswith("attachment; ")
    assert "filename*=utf-8''%E4%BB%BB%E5%8A%A1" in header


def test_an_ascii_file_name_stays_plain() -> None:
    assert attachment("ledger-2026-12-01.xlsx") == 'attachment; filename="ledger-2026-12-01.xlsx"'


def test_downloads_carry_their_type_and_name() -> None:
    r = xlsx_response(b"PK", "考评.xlsx")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=" in r["Content-Disposition"]
    assert download("a: 1", "s.yaml", "application/yaml")["Content-Disposition"].endswith(
        '"s.yaml"'
    )


def test_an_upload_past_the_limit_is_refused_on_its_field(settings) -> None:
    settings.DUBAN_IMPORT_MAX_BYTES = 10
    with pytest.raises(DubanError) as exc:
        read_upload(SimpleUploadedFile("big.csv", b"x" * 11))
    assert exc.value.problems[0].where == "file"
    assert read_upload(SimpleUploadedFile("ok.csv", b"x" * 10)) == b"x" * 10
    with pytest.raises(DubanError):
        read_upload(None)
    with pytest.raises(DubanError):
        read_upload(SimpleUploadedFile("e.bin", b"x" * 20), limit=5)


def test_actor_refuses_an_anonymous_request() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        actor(request)
