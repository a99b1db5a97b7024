"""The second factor: the three administrators are sent to set it up before any other page;
anyone who has one is asked a code (or a one-time recovery code) after the password; wrong
codes are refused, throttled and audited; the security administrator of the person's tree
resets it, nobody else."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from duban.accounts import second_factor
from duban.accounts.models import User
from duban.audit.models import AuditEntry
from duban.audit.types import Unknown, registry, render
from duban.orgs import policy
from duban.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
STEP = "/accounts/login/code/"
SETUP = "/accounts/account/second-factor/"


@pytest.fixture(autouse=True)
def _required(settings: Any) -> None:
    settings.DUBAN_REQUIRE_SECOND_FACTOR = True


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def enrol(user: User) -> tuple[TOTPDevice, list[str]]:
    """A confirmed app and ten recovery codes, as the set-up page leaves them."""
    device = TOTPDevice.objects.create(user=user, name=second_factor.APP, confirmed=True)
    return device, second_factor.renew_recovery_codes(user)


def sign_in(username: str) -> Client:
    client = Client()
    answer = client.post(LOGIN, {"username": username, "password": PASSWORD})
    assert answer.status_code == 302, "the password step failed"
    return client


def actions(code: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=code).order_by("seq"))


def test_an_administrator_without_a_second_factor_is_sent_to_set_it_up(tree) -> None:
    admin = make_user("secadmin", tree.city, "security_admin")
    client = Client()
    client.force_login(admin)
    for page in (
        "/",
        "/accounts/account/",
        f"/accounts/members/{tree.city.code}/",
        "/api/accounts/me",
    ):
        answer = client.get(page)
        assert (answer.status_code, answer["Location"]) == (302, SETUP), page
    # The set-up page itself, the language switch and signing out stay open (no menu yet).
    setup = client.get(SETUP)
    assert setup.status_code == 200 and setup.wsgi_request.duban_detour is True
    assert client.post("/accounts/language/", {"language": "en", "next": SETUP}).status_code == 302
    assert client.post("/accounts/logout/").status_code == 302


@pytest.mark.parametrize("role", ["system_admin", "audit_admin"])
def test_the_other_two_administrators_are_sent_too(tree, role: str) -> None:
    client = Client()
    client.force_login(make_user("admin", tree.city, role))
    assert client.get("/")["Location"] == SETUP


def test_other_people_are_not_sent_and_nobody_is_when_the_setting_is_off(tree, settings) -> None:
    client = Client()
    client.force_login(make_user("reporter", tree.county_a, "reporter"))
    assert client.get("/").status_code == 200
    settings.DUBAN_REQUIRE_SECOND_FACTOR = False
    admin = Client()
    admin.force_login(make_user("secadmin", tree.city, "security_admin"))
    assert admin.get("/").status_code == 200


def test_setting_up_shows_the_secret_and_a_qr_code_and_is_confirmed_by_a_code(tree) -> None:
    admin = make_user("secadmin", tree.city, "security_admin")
    client = Client()
    client.force_login(admin)
    page = client.get(SETUP).content.decode()
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    assert second_factor.secret_text(device) in page
    assert "<svg" in page and "设置二次验证" in page
    assert client.get(SETUP).content.decode().count(second_factor.secret_text(device)) == 1
    assert TOTPDevice.objects.filter(user=admin).count() == 1  # the same secret on a reload
    with time_machine.travel(timezone.now(), tick=False) as clock:
        wrong = client.post(SETUP, {"code": "000000" if code_for(device) != "000000" else "111111"})
        assert "验证码不对或已过期" in wrong.content.decode()
        clock.shift(timedelta(seconds=2))  # past the throttle of one wrong code
        shown = client.post(SETUP, {"code": code_for(device)})
    assert shown.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", shown.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert set(
        StaticToken.objects.filter(device__user=admin).values_list("token", flat=True)
    ) == set(codes)
    assert TOTPDevice.objects.get(user=admin).confirmed
    assert client.get("/").status_code == 200  # this session passed: it goes on
    assert [e.after for e in actions("accounts.second_factor.failed")] == [{"step": "enrolment"}]
    assert len(actions("accounts.second_factor.enrolment_started")) == 1
    assert len(actions("accounts.second_factor.confirmed")) == 1


def test_signing_in_with_a_second_factor_asks_the_code_after_the_password(tree) -> None:
    admin = make_user("secadmin", tree.city, "security_admin")
    device, _codes = enrol(admin)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = sign_in("secadmin")
        assert client.get("/")["Location"] == STEP
        assert client.get("/api/accounts/me").status_code == 302  # no data before the code
        asked = client.get("/accounts/account/")
        assert asked["Location"] == STEP + "?next=%2Faccounts%2Faccount%2F"
        step = client.get(asked["Location"])
        page = step.content.decode()
        assert "登录第二步" in page and 'value="/accounts/account/"' in page
        assert "todo" not in step.context  # nothing of his, not even a count, before the code
        assert 'class="mainnav"' not in page and "/accounts/logout/" in page  # only the way out
        refused = client.post(STEP, {"code": "12345", "next": "/accounts/account/"})
        assert "验证码不对或已过期" in refused.content.decode()
        assert client.get("/")["Location"] == STEP
        clock.shift(timedelta(seconds=2))
        before = client.session.session_key
        passed = client.post(STEP, {"code": code_for(device), "next": "/accounts/account/"})
        assert passed["Location"] == "/accounts/account/"
        assert client.session.session_key != before  # a new session id past the step
        assert client.get("/").status_code == 200
        assert client.get("/api/accounts/me").json()["username"] == "secadmin"
    assert [e.after for e in actions("accounts.second_factor.failed")] == [{"step": "sign-in"}]
    assert [e.actor_id for e in actions("accounts.second_factor.passed")] == [admin.pk]


def test_the_step_refuses_an_address_elsewhere_as_next(tree) -> None:
    device, _codes = enrol(make_user("reporter", tree.county_a, "reporter"))
    client = sign_in("reporter")
    answer = client.post(STEP, {"code": code_for(device), "next": "https://elsewhere.example/"})
    assert answer["Location"] == "/"


def test_a_code_is_good_once_and_wrong_codes_in_a_row_are_throttled(tree) -> None:
    device, _codes = enrol(make_user("reporter", tree.county_a, "reporter"))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        code = code_for(device)
        assert sign_in("reporter").post(STEP, {"code": code}).status_code == 302
        again = sign_in("reporter").post(STEP, {"code": code})  # replayed in the same 30 s
        assert "验证码不对或已过期" in again.content.decode()
        clock.shift(timedelta(seconds=30))
        client = sign_in("reporter")
        for _n in range(3):  # after the replay: waits of 1, 2, 4 seconds
            clock.shift(timedelta(seconds=5))
            client.post(STEP, {"code": "999999" if code_for(device) != "999999" else "888888"})
        clock.shift(timedelta(seconds=3))  # the fourth failure in a row: 8 seconds
        waiting = client.post(STEP, {"code": code_for(device)})
        assert "错误次数过多" in waiting.content.decode()
        clock.shift(timedelta(seconds=6))
        assert client.post(STEP, {"code": code_for(device)}).status_code == 302
    assert len(actions("accounts.second_factor.failed")) == 4


def test_a_recovery_code_signs_in_once(tree) -> None:
    _device, codes = enrol(make_user("reporter", tree.county_a, "reporter"))
    client = sign_in("reporter")
    answer = client.post(STEP, {"code": codes[3].upper()[:4] + "-" + codes[3][4:]}, follow=True)
    assert answer.redirect_chain[0][0] == "/"
    assert "剩余 9 个" in answer.content.decode()
    again = sign_in("reporter").post(STEP, {"code": codes[3]})
    assert "验证码不对或已过期" in again.content.decode()
    assert [e.after for e in actions("accounts.second_factor.recovery_used")] == [{"left": 9}]
    assert StaticToken.objects.filter(token=codes[3]).count() == 0


def test_new_recovery_codes_replace_the_old_ones(tree) -> None:
    device, old = enrol(make_user("reporter", tree.county_a, "reporter"))
    client = sign_in("reporter")
    client.post(STEP, {"code": code_for(device)})
    account = client.get("/accounts/account/").content.decode()
    assert "还剩 10 个恢复码" in account
    shown = client.post("/accounts/account/recovery-codes/").content.decode()
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", shown)
    assert len(new) == 10 and not set(new) & set(old)
    assert "恢复码不对" not in shown
    assert "验证码不对或已过期" in sign_in("reporter").post(STEP, {"code": old[0]}).content.decode()
    assert len(actions("accounts.second_factor.codes_renewed")) == 2  # enrol() and this one


def test_everyone_may_set_it_up_from_the_account_page(tree) -> None:
    client = Client()
    client.force_login(make_user("reporter", tree.county_a, "reporter"))
    page = client.get("/accounts/account/").content.decode()
    assert "二次验证" in page and SETUP in page
    assert client.get(SETUP).status_code == 200


def test_a_person_whose_role_does_not_require_it_switches_it_off_with_a_code(tree) -> None:
    reporter = make_user("reporter", tree.county_a, "reporter")
    device, _codes = enrol(reporter)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = sign_in("reporter")
        client.post(STEP, {"code": code_for(device)})
        assert "关闭二次验证" in client.get("/accounts/account/").content.decode()
        clock.shift(timedelta(seconds=30))
        client.post("/accounts/account/second-factor/off/", {"code": "12"})
        assert TOTPDevice.objects.filter(user=reporter).exists()  # a wrong code: still on
        clock.shift(timedelta(seconds=2))
        client.post("/accounts/account/second-factor/off/", {"code": code_for(device)})
    assert not TOTPDevice.objects.filter(user=reporter).exists()
    assert not StaticToken.objects.filter(device__user=reporter).exists()
    assert len(actions("accounts.second_factor.switched_off")) == 1
    assert sign_in("reporter").get("/").status_code == 200  # the password alone again


def test_an_administrator_cannot_switch_it_off(tree) -> None:
    admin = make_user("secadmin", tree.city, "security_admin")
    device, _codes = enrol(admin)
    client = sign_in("secadmin")
    client.post(STEP, {"code": code_for(device)})
    assert "关闭二次验证" not in client.get("/accounts/account/").content.decode()
    with pytest.raises(policy.PermissionDenied):
        second_factor.switch_off(admin, code_for(device))
    answer = client.post("/accounts/account/second-factor/off/", {"code": code_for(device)})
    assert answer.status_code == 403
    assert TOTPDevice.objects.filter(user=admin).exists()


def test_the_security_administrator_resets_a_second_factor(tree) -> None:
    reporter = make_user("reporter", tree.county_a, "reporter")
    admin_there = make_user("sysadmin", tree.county_a, "system_admin")
    enrol(reporter)
    enrol(admin_there)
    secadmin = make_user("secadmin", tree.city, "security_admin")
    device, _codes = enrol(secadmin)
    client = sign_in("secadmin")
    client.post(STEP, {"code": code_for(device)})
    url = f"/accounts/members/{tree.county_a.code}/"
    assert "重置二次验证" in client.get(url).content.decode()
    for username in ("reporter", "sysadmin"):
        answer = client.post(url, {"form": "reset_second_factor", "username": username})
        assert answer.status_code == 302
    assert not TOTPDevice.objects.filter(user__in=[reporter, admin_there]).exists()
    assert not StaticToken.objects.filter(device__user__in=[reporter, admin_there]).exists()
    assert [e.object_repr for e in actions("accounts.second_factor.reset")] == [
        "reporter",
        "sysadmin",
    ]
    # The reporter signs in with the password alone; the administrator must set it up again.
    assert sign_in("reporter").get("/").status_code == 200
    assert sign_in("sysadmin").get("/")["Location"] == SETUP


def test_nobody_else_resets_a_second_factor(tree, settings) -> None:
    settings.DUBAN_REQUIRE_SECOND_FACTOR = False  # the policy answers, not the set-up detour
    reporter = make_user("reporter", tree.county_a, "reporter")
    enrol(reporter)
    url = f"/accounts/members/{tree.county_a.code}/"
    for who, unit, role in (
        ("sibling_sec", tree.county_b, "security_admin"),
        ("sysadmin", tree.city, "system_admin"),
        ("colleague", tree.county_a, "reporter"),
    ):
        person = make_user(who, unit, role)
        client = Client()
        client.force_login(person)
        answer = client.post(url, {"form": "reset_second_factor", "username": "reporter"})
        assert answer.status_code in (403, 404), who
        with pytest.raises(policy.PermissionDenied):
            second_factor.reset(reporter, user=person)
    assert TOTPDevice.objects.filter(user=reporter).exists()
    assert not actions("accounts.second_factor.reset")


def test_every_second_factor_entry_reads_as_a_chinese_sentence(tree) -> None:
    from django.utils import translation

    admin = make_user("secadmin", tree.city, "security_admin", full_name="王安")
    client = Client()
    client.force_login(admin)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=admin)
    client.post(SETUP, {"code": code_for(device)})
    second_factor.reset(admin, user=make_user("sec2", tree.city, "security_admin"))
    entries = list(
        AuditEntry.objects.filter(action__startswith="accounts.second_factor.").order_by("seq")
    )
    assert [e.action for e in entries] == [
        "accounts.second_factor.enrolment_started",
        "accounts.second_factor.confirmed",
        "accounts.second_factor.reset",
    ]
    with translation.override("zh-hans"):
        for row in render(entries):
            assert "王安" in row.text and row.label.isascii() is False, row.text
            assert not re.search(r"[a-z]+\.[a-z_]+\.", row.text)
    for code in (
        "enrolment_started", "confirmed", "passed", "failed", "recovery_used", "codes_renewed",
        "reset", "switched_off",
    ):  # fmt: skip
        assert not isinstance(registry.type_of(f"accounts.second_factor.{code}"), Unknown)


def test_check_deploy_warns_when_the_administrators_need_no_second_factor(settings) -> None:
    from duban.accounts.checks import second_factor_required

    assert second_factor_required() == []
    settings.DUBAN_REQUIRE_SECOND_FACTOR = False
    assert [m.id for m in second_factor_required()] == ["duban.accounts.W001"]
