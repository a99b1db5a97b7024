"""Two published schemes over the shared test tree: the province's (scoring the city, both
counties and a station) and the city's own (scoring its two counties), with approved
figures for January to March 2017; the clock stands in January 2018 (the year is over)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from duban.evaluation import services
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import Scheme
from duban.evaluation.tests.conftest import indicators, scheme, scheme_data  # noqa: F401
from duban.orgs.policy import SYSTEM
from duban.testing import make_user

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def after_the_year() -> Any:
    with time_machine.travel("2018-01-10 09:00 +0800", tick=False):
        yield


@pytest.fixture
def city_scheme(scheme: Scheme) -> Scheme:  # noqa: F811
    data = scheme_data(issuer="CITY", members=("COUNTY-A", "COUNTY-B"), code="c-2017")
    s = services.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    services.publish_scheme(s, user=SYSTEM)
    return s


@pytest.fixture
def people(tree: Any) -> dict[str, Any]:
    return {
        "city_leader": make_user("city_leader", tree.city, "leader"),
        "county_leader": make_user("county_leader", tree.county_a, "leader"),
        "city_office": make_user("city_office", tree.city, "office"),
        "reporter": make_user("county_reporter", tree.county_a, "reporter"),
        "admin": make_user("city_sysadmin", tree.city, "system_admin"),
    }
