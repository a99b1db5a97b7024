"""Issue 15's sign-in, driven in Debian's Chromium over the demo: a lockout after five wrong
passwords, the initial password changed at first sign-in, and an administrator's second
factor — set up from the QR page's secret, then asked at sign-in, and a recovery code that
works once (duban.testing_browser: any console error or failed request fails)."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Browser, Page, expect

from duban.demo.loader import DEMO_PASSWORD
from duban.testing_browser import OpenPage, login, shoot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.once,
    pytest.mark.xdist_group("sign_in"),
]
NEW_PASSWORD = "Qiang-Mima-2026"


def password_step(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """The sign-in form, as `login` fills it, without expecting to leave /accounts/login/."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.press("#id_password", "Enter")


def log_out(page: Page) -> None:
    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def code_now(secret: str, *, ahead: int = 0) -> str:
    """The app's code for the secret shown on the page, `ahead` steps of 30 s later."""
    key = b32decode("".join(secret.split()))
    totp = TOTP(key)
    totp.time = time.time() + 30 * ahead
    return f"{totp.token():06d}"


@pytest.fixture
def unlocked(django_db_blocker: Any) -> Iterator[None]:
    """The lockout test locks 127.0.0.1 too, from which every page of this module comes."""
    yield
    from axes.utils import reset

    with django_db_blocker.unblock():
        reset()


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_refused(
    browser: Browser, demo_site: Any, unlocked: None
) -> None:
    # Not `open_page`: its watch fails a test on any answer of 400 or more, and the lock's is 429.
    context = browser.new_context(base_url=demo_site.url, locale="zh-CN")
    page = context.new_page()
    statuses = []
    for _n in range(5):
        page.goto("/accounts/login/")
        page.fill("#id_username", "ll_reporter")
        page.fill("#id_password", "Wrong-Password-9")
        with page.expect_navigation() as sent:
            page.press("#id_password", "Enter")
        statuses.append(sent.value.status if sent.value else 0)
    assert statuses == [200, 200, 200, 200, 429]
    page.goto("/accounts/login/")
    page.fill("#id_username", "ll_reporter")
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation() as sent:
        page.press("#id_password", "Enter")
    assert sent.value is not None and sent.value.status == 429
    expect(page.locator("h1")).to_have_text("登录已锁定")
    expect(page.locator("[role=alert]")).to_contain_text("15 分钟")
    shoot(page, "locked")
    context.close()


def test_an_account_made_by_the_administrator_changes_its_password_first(
    open_page: OpenPage,
) -> None:
    admin = open_page()
    login(admin, "yz_secadmin")
    admin.goto("/accounts/members/YZ-LL/")
    admin.fill("#id_new-username", "ll_newcomer")
    admin.fill("#id_new-full_name", "零陵新同事")
    admin.fill("#id_new-password", "Chushi-Mima-2026")
    admin.select_option("#id_new-role", "reporter")
    with admin.expect_navigation():
        admin.locator("input[name=form][value=create] ~ button[type=submit]").click()
    expect(admin.locator(".messages")).to_contain_text("账号已创建")

    page = open_page()
    password_step(page, "ll_newcomer", "Chushi-Mima-2026")
    expect(page).to_have_url(re.compile(r"/accounts/account/$"))
    expect(page.locator(".messages")).to_contain_text("请先设置您自己的密码")
    page.goto("/")  # any other page sends him back
    expect(page).to_have_url(re.compile(r"/accounts/account/$"))
    page.fill("#id_old_password", "Chushi-Mima-2026")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    with page.expect_navigation():
        page.locator("#id_new_password2").press("Enter")
    expect(page.locator(".messages")).to_contain_text("密码已修改")
    page.goto("/")
    expect(page).not_to_have_url(re.compile(r"/accounts/"))
    expect(page.locator(".username")).to_have_text("零陵新同事")


def test_an_administrator_sets_up_the_second_factor_and_signs_in_with_it(
    open_page: OpenPage, settings: Any
) -> None:
    settings.DUBAN_REQUIRE_SECOND_FACTOR = True  # as in a real installation
    page = open_page()
    login(page, "yz_auditor")  # the password alone, first: then sent to set it up
    expect(page).to_have_url(re.compile(r"/accounts/account/second-factor/$"))
    expect(page.locator(".sf-qr svg")).to_be_visible()
    shoot(page, "second-factor-setup")
    page.goto("/audit/")  # nothing else opens before it is set up
    expect(page).to_have_url(re.compile(r"/accounts/account/second-factor/$"))
    secret = page.locator("#secret").inner_text()
    page.fill("#id_code", code_now(secret))
    with page.expect_navigation():
        page.locator("#id_code").press("Enter")
    expect(page.locator("h1")).to_have_text("二次验证已开启。")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="已妥善保存，继续").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/"))
    log_out(page)

    # Password, then the code (the next 30 s step's: the one just used is spent).
    password_step(page, "yz_auditor")
    expect(page).to_have_url(re.compile(r"/accounts/login/code/"))
    expect(page.locator("h1")).to_have_text("登录第二步")
    page.fill("#id_code", code_now(secret, ahead=1))
    with page.expect_navigation():
        page.locator("#id_code").press("Enter")
    expect(page).not_to_have_url(re.compile(r"/accounts/"))
    page.goto("/audit/")
    expect(page).to_have_url(re.compile(r"/audit/"))
    log_out(page)

    # A recovery code instead of the app: once.
    password_step(page, "yz_auditor")
    page.fill("#id_code", codes[0])
    with page.expect_navigation():
        page.locator("#id_code").press("Enter")
    expect(page.locator(".messages")).to_contain_text("剩余 9 个")
    log_out(page)
    password_step(page, "yz_auditor")
    page.fill("#id_code", codes[0])
    with page.expect_navigation():
        page.locator("#id_code").press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/login/code/"))
    expect(page.locator(".error")).to_have_text("验证码不对或已过期。")
