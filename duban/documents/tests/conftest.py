"""The sample bulletin and its files, written once per test session (no database)."""

from __future__ import annotations

import pytest

from duban.documents.model import OfficialDocument


@pytest.fixture(scope="session")
def bulletin() -> OfficialDocument:
    from duban.documents.samples import sample_bulletin

    return sample_bulletin()


@pytest.fixture(scope="session")
def images(bulletin: OfficialDocument) -> list[list[bytes]]:
    from duban.documents.charts import document_images

    return document_images(bulletin)


@pytest.fixture(scope="session")
def docx_bytes(bulletin: OfficialDocument, images: list[list[bytes]]) -> bytes:
    from duban.documents.docx import to_docx

    return to_docx(bulletin, images=images)


@pytest.fixture(scope="session")
def pdf_bytes(bulletin: OfficialDocument, images: list[list[bytes]]) -> bytes:
    from duban.documents.pdf import to_pdf

    return to_pdf(bulletin, images=images)
