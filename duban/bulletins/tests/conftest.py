"""A published scheme over the shared test tree (evaluation's fixture), and the province
office's monthly and quarterly series; the clock stands at 2017-03-08."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from duban.bulletins.models import DocumentKind, Series
from duban.evaluation.models import Scheme
from duban.evaluation.tests.conftest import indicators, scheme  # noqa: F401
from duban.testing import make_user


@pytest.fixture(autouse=True)
def early_march() -> Any:
    with time_machine.travel("2017-03-08 09:00 +0800", tick=False):
        yield


@pytest.fixture
def office(tree: Any) -> Any:
    return make_user("prov_office", tree.province, "office")


@pytest.fixture
def monthly(tree: Any, scheme: Scheme) -> Series:  # noqa: F811
    return Series.objects.create(
        issuer=tree.province,
        kind=DocumentKind.MONTHLY,
        authority="某省公安厅改革办公室",
        prefix="某公改办通",
        index_code="610000018",
        category="工作通报",
        addressees="各市公安局",
        scheme=scheme,
        progress_item="solved",
    )


@pytest.fixture
def quarterly(tree: Any, scheme: Scheme) -> Series:  # noqa: F811
    return Series.objects.create(
        issuer=tree.province,
        kind=DocumentKind.QUARTERLY,
        authority="某省公安厅改革办公室",
        prefix="某公改办评",
        scheme=scheme,
    )
