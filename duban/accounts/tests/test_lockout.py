"""Five failed sign-ins in fifteen minutes lock the account name (and, from one address, the
address); the right password is then refused until the time runs out or the security
administrator unlocks; each lock and unlock is in the trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from duban.audit.models import AuditEntry
from duban.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def _sign_in(client: Client, username: str, password: str, address: str = "10.0.0.5") -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(client: Client, username: str, times: int, address: str = "10.0.0.5") -> list[int]:
    return [
        _sign_in(client, username, "wrong-Password-1", address).status_code for _ in range(times)
    ]


def test_five_failures_lock_the_account_and_the_right_password_is_refused(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    assert _fail(Client(), "reporter", 4) == [200] * 4  # the form again, with its error
    assert _sign_in(Client(), "reporter", PASSWORD).status_code == 302  # 4: still allowed
    assert _fail(Client(), "reporter", 5) == [200] * 4 + [429]  # a success started afresh
    locked = _sign_in(Client(), "reporter", PASSWORD)
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode() and "15 分钟" in locked.content.decode()
    # The fifth failure locks; each attempt refused while locked is recorded too.
    entries = AuditEntry.objects.filter(action="accounts.login.locked").order_by("seq")
    assert [(e.object_repr, e.after) for e in entries] == [
        ("reporter", {"address": "10.0.0.5"})
    ] * 2


def test_the_lock_runs_out_after_fifteen_minutes(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _fail(client, "reporter", 5)
        assert _sign_in(client, "reporter", PASSWORD).status_code == 429
        clock.shift(timedelta(minutes=14))
        assert _sign_in(client, "reporter", PASSWORD).status_code == 429
        clock.shift(timedelta(minutes=16))
        assert _sign_in(client, "reporter", PASSWORD).status_code == 302


def test_an_address_trying_many_names_is_locked_for_every_name(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    client = Client()
    for n in range(5):
        _sign_in(client, f"guess{n}", "wrong-Password-1", "10.9.9.9")
    assert _sign_in(client, "reporter", PASSWORD, "10.9.9.9").status_code == 429
    assert _sign_in(client, "reporter", PASSWORD, "10.0.0.7").status_code == 302


def test_the_security_administrator_sees_the_lock_and_lifts_it(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    make_user("secadmin", tree.city, "security_admin")
    _fail(Client(), "reporter", 5)
    admin = Client()
    admin.force_login(make_user("secadmin2", tree.city, "security_admin"))
    page = admin.get(f"/accounts/members/{tree.county_a.code}/").content.decode()
    assert "登录已锁定" in page
    answer = admin.post(
        f"/accounts/members/{tree.county_a.code}/", {"form": "unlock", "username": "reporter"}
    )
    assert answer.status_code == 302
    assert _sign_in(Client(), "reporter", PASSWORD, "10.0.0.8").status_code == 302
    assert AuditEntry.objects.filter(action="accounts.login.unlocked").count() == 1


def test_a_sibling_security_administrator_cannot_unlock(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    _fail(Client(), "reporter", 5)
    sibling = Client()
    sibling.force_login(make_user("sibling_sec", tree.county_b, "security_admin"))
    answer = sibling.post(
        f"/accounts/members/{tree.county_a.code}/", {"form": "unlock", "username": "reporter"}
    )
    assert answer.status_code in (403, 404)
    assert not AuditEntry.objects.filter(action="accounts.login.unlocked").exists()


def test_behind_a_trusted_proxy_each_client_is_counted_apart(tree, settings) -> None:
    """nginx's X-Real-IP names the client: one guesser behind the proxy locks only himself."""
    settings.DUBAN_TRUSTED_PROXIES = ["127.0.0.1"]
    make_user("reporter", tree.county_a, "reporter")
    client = Client()
    for n in range(5):
        client.post(
            LOGIN,
            {"username": f"guess{n}", "password": "wrong-Password-1"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_REAL_IP="10.9.9.9",
        )
    guesser = client.post(
        LOGIN,
        {"username": "reporter", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_REAL_IP="10.9.9.9",
    )
    assert guesser.status_code == 429
    colleague = Client().post(
        LOGIN,
        {"username": "reporter", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_REAL_IP="10.0.0.7",
    )
    assert colleague.status_code == 302
    failed = AuditEntry.objects.filter(action="accounts.login.failed").first()
    assert failed is not None and failed.ip == "10.9.9.9"


def test_a_client_cannot_name_its_own_address(tree, settings) -> None:
    """Without a trusted proxy in front (or from any other peer) X-Real-IP is not believed."""
    from duban.web.proxy import client_address

    trusted = ["127.0.0.1"]
    assert client_address({"REMOTE_ADDR": "10.0.0.5", "HTTP_X_REAL_IP": "1.2.3.4"}, trusted) == (
        "10.0.0.5"
    )
    assert client_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "x; drop"}, trusted) == (
        "127.0.0.1"
    )
    assert client_address({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": " ::1 "}, trusted) == "::1"
    settings.DUBAN_TRUSTED_PROXIES = []
    make_user("reporter", tree.county_a, "reporter")
    for n in range(5):
        _sign_in(Client(), f"guess{n}", "wrong-Password-1", "10.9.9.9")
    # The guesser's forged header does not move him to a fresh address.
    forged = Client().post(
        LOGIN,
        {"username": "reporter", "password": PASSWORD},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_REAL_IP="10.1.1.1",
    )
    assert forged.status_code == 429
