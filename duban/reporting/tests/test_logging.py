"""An import leaves one line when it starts and one when it finishes, with its counts."""

from __future__ import annotations

import logging

import pytest

from duban.orgs.policy import SYSTEM
from duban.reporting import importing
from duban.reporting.errors import ReportingError
from duban.reporting.tests.conftest import TODAY

CSV = "indicator,period,unit,value,comment\ncase.filed,201712,COUNTY-A,10,\n"


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "duban.reporting.importing"]


def test_an_import_logs_its_counts_and_duration(form, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="duban"):
        importing.import_file(CSV.encode(), "csv", user=SYSTEM, today=TODAY)
    started, finished = _lines(caplog)
    assert started.getMessage() == "import started" and started.format == "csv"
    assert finished.getMessage() == "import finished" and finished.levelno == logging.INFO
    assert (finished.rows, finished.new, finished.changed) == (1, 1, 0)
    assert finished.seconds >= 0


def test_a_refused_import_logs_a_warning(form, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="duban"), pytest.raises(ReportingError):
        importing.import_file(b"indicator,period,unit,value\n", "csv", user=SYSTEM, today=TODAY)
    [_, failed] = _lines(caplog)
    assert failed.getMessage() == "import failed" and failed.levelno == logging.WARNING
    assert failed.error == "ReportingError"
