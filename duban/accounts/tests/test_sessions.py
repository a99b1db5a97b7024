"""Sessions end on the server: after 30 idle minutes, 8 hours after sign-in, when the account
is switched off, when the password changes, and on "sign out everywhere else"."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from duban.accounts.models import User
from duban.audit.models import AuditEntry
from duban.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _signed_in(username: str) -> Client:
    client = Client()
    answer = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert answer.status_code == 302
    return client


def _in(client: Client) -> bool:
    return client.get("/orgs/").status_code == 200


def test_thirty_idle_minutes_end_the_session_and_activity_keeps_it(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        busy, idle = _signed_in("reporter"), _signed_in("reporter")
        for _ in range(4):  # 4 × 20 minutes with a request each time
            clock.shift(timedelta(minutes=20))
            assert _in(busy)
        assert not _in(idle)  # 80 minutes without one


def test_eight_hours_after_sign_in_the_session_ends_however_busy(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = _signed_in("reporter")
        minutes = 0
        while _in(client):
            clock.shift(timedelta(minutes=15))
            minutes += 15
            assert minutes <= 8 * 60 + 15
        answer = client.get("/orgs/", follow=True)
    assert minutes == 8 * 60 + 15  # in at 8:00, out at the first request after it
    assert "/accounts/login/" in answer.redirect_chain[-1][0]
    assert "您已连续登录一个工作日，请重新登录。" in answer.content.decode()


def test_a_switched_off_account_is_out_at_its_next_request(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    client = _signed_in("reporter")
    User.objects.filter(username="reporter").update(is_active=False)
    assert not _in(client)


def test_sign_out_everywhere_else_ends_the_others_and_keeps_this_one(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    here, phone, office = (_signed_in("reporter") for _ in range(3))
    assert here.post("/accounts/account/sign-out-elsewhere/").status_code == 302
    assert _in(here) and not _in(phone) and not _in(office)
    assert AuditEntry.objects.filter(action="accounts.sessions.ended").count() == 1


def test_a_changed_password_ends_the_other_sessions_and_follows_the_policy(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    here, other = _signed_in("reporter"), _signed_in("reporter")
    weak = here.post("/accounts/account/", {
        "old_password": PASSWORD, "new_password1": "aaaaaaaaaaaa", "new_password2": "aaaaaaaaaaaa",
    })  # fmt: skip
    assert weak.status_code == 200 and "三类" in weak.content.decode()
    assert _in(other)
    good = here.post("/accounts/account/", {
        "old_password": PASSWORD, "new_password1": "Lsz-2017-duban", "new_password2": "Lsz-2017-duban",
    })  # fmt: skip
    assert good.status_code == 302
    assert _in(here) and not _in(other)


def test_an_account_made_by_an_administrator_chooses_its_own_password_first(tree) -> None:
    from duban.accounts import services

    admin = make_user("secadmin", tree.city, "security_admin")
    services.create_account(
        user=admin, unit=tree.county_a, username="newcomer", full_name="新同志",
        password="Given-by-2017-admin", role="reporter",
    )  # fmt: skip
    client = Client()
    assert (
        client.post(
            "/accounts/login/", {"username": "newcomer", "password": "Given-by-2017-admin"}
        ).status_code
        == 302
    )
    blocked = client.get("/orgs/", follow=True)
    assert blocked.redirect_chain[-1][0] == "/accounts/account/"
    assert "请先设置您自己的密码" in blocked.content.decode()
    client.post("/accounts/account/", {
        "old_password": "Given-by-2017-admin", "new_password1": "Mine-2017-xinren",
        "new_password2": "Mine-2017-xinren",
    })  # fmt: skip
    assert not User.objects.get(username="newcomer").must_change_password
    assert _in(client)
