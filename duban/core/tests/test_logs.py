"""Operational log lines: key=value, with the request id, the actor and the source."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.test import Client

from duban.audit.context import acting_as
from duban.env import env_choice
from duban.logs import ContextFilter, KeyValueFormatter
from duban.orgs import policy
from duban.orgs.policy import SYSTEM, Action
from duban.testing import make_user


def _line(logger: str, msg: str, **extra: object) -> str:
    record = logging.getLogger(logger).makeRecord(
        logger, logging.INFO, __file__, 1, msg, (), None, extra=extra
    )
    ContextFilter().filter(record)
    return KeyValueFormatter().format(record)


def test_a_line_names_time_level_logger_request_actor_and_fields() -> None:
    with acting_as(actor=SYSTEM, source="duban tasks_daily", request_id="r1"):
        line = _line("duban.tasks", "daily pass finished", reminders=3, note="两 条")
    assert line.startswith("at=") and "Z level=INFO logger=duban.tasks" in line
    assert 'request=r1 user=system source="duban tasks_daily" msg="daily pass finished"' in line
    assert line.endswith('reminders=3 note="两 条"')


def test_outside_any_request_the_context_fields_say_so() -> None:
    assert "request=- user=- source=system" in _line("duban", "x")


def test_a_request_gets_an_id_and_a_refusal_is_logged(tree, caplog) -> None:
    client = Client()
    client.force_login(make_user("reporter", tree.county_a, "reporter"))
    with caplog.at_level(logging.WARNING, logger="duban"):
        response = client.get("/audit/units/COUNTY-A/", HTTP_X_REQUEST_ID="abc-123")
    assert response.status_code == 403 and response["X-Request-ID"] == "abc-123"
    refused = [r for r in caplog.records if r.getMessage() == "policy refused"]
    assert [(r.action, r.unit) for r in refused] == [("view_audit", "COUNTY-A")]
    assert any(r.getMessage() == "access refused" and r.path for r in caplog.records)
    assert len(Client().get("/accounts/login/")["X-Request-ID"]) == 12


def test_a_refusal_outside_requests_is_logged_too(tree, caplog) -> None:
    user = make_user("leader", tree.county_b, "leader")
    with caplog.at_level(logging.WARNING, logger="duban"), pytest.raises(PermissionDenied):
        policy.require(user, Action.ENTER_DATA, tree.county_a)
    assert [r.levelname for r in caplog.records if r.name == "duban.orgs.policy"] == ["WARNING"]


def test_a_log_level_is_checked(monkeypatch) -> None:
    monkeypatch.setenv("DUBAN_LOG_LEVEL", "chatty")
    with pytest.raises(ImproperlyConfigured, match="DUBAN_LOG_LEVEL"):
        env_choice("DUBAN_LOG_LEVEL", "INFO", ("DEBUG", "INFO"))
    monkeypatch.setenv("DUBAN_LOG_LEVEL", "debug")
    assert env_choice("DUBAN_LOG_LEVEL", "INFO", ("DEBUG", "INFO")) == "DEBUG"
