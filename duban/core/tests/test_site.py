from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client

from duban.env import env_bool, env_int, env_list
from duban.testing import PASSWORD, make_user


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("TRUE", True), ("off", False), ("", False)]
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw: str, value: bool) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not value) is value


def test_env_readers_fail_loudly_with_the_variable_name(monkeypatch) -> None:
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='maybe'"):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUM='ten' is not an integer"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_list("X_LIST", []) == ["a", "b", "c"]


def test_openapi_document_describes_the_routes(tree) -> None:
    make_user("u", tree.city, "leader")
    client = Client()
    client.login(username="u", password=PASSWORD)
    doc = client.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/orgs/units/{code}", "/api/audit/units/{code}/entries", "/api/accounts/me"} <= set(
        doc["paths"]
    )


def test_api_docs_page_loads_nothing_from_the_internet(tree) -> None:
    make_user("u", tree.city, "leader")
    client = Client()
    client.login(username="u", password=PASSWORD)
    html = client.get("/api/docs").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the docs page has assets"
    assert all(s.startswith("/") for s in sources), sources


def test_every_page_asset_is_local(tree) -> None:
    client = Client()
    html = client.get("/accounts/login/").content.decode()
    assert "htmx" in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)


def test_periods_api_answers_and_names_a_bad_identifier(tree) -> None:
    make_user("u", tree.city, "leader")
    client = Client()
    client.login(username="u", password=PASSWORD)
    body = client.get("/api/periods/2020W53").json()
    assert (body["start"], body["end"], body["next"]) == ("2020-12-28", "2021-01-03", "2021W1")
    bad = client.get("/api/periods/2017W53")
    assert bad.status_code == 400 and "2017W53" in bad.json()["detail"]


def test_check_deploy_is_clean_with_production_settings(tmp_path) -> None:
    env = {
        **os.environ,
        "DUBAN_SECRET_KEY": "x" * 60 + "-production-secret-from-the-vault",
        "DUBAN_DEBUG": "0",
        "DUBAN_SSL_REDIRECT": "1",
        "DUBAN_HSTS_SECONDS": "31536000",
        "DUBAN_DATA_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    result = subprocess.run(
        [sys.executable, "-m", "duban", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.once
def test_demo_loads_both_organisations_and_says_figures_are_invented(db, capsys) -> None:
    from duban.orgs.models import OrgUnit

    call_command("demo")
    out = capsys.readouterr().out
    assert "虚构" in out and "invented" in out
    yz = OrgUnit.objects.get(code="YZ")
    below = yz.children.all()
    assert below.filter(kind="territorial").count() == 13
    assert below.exclude(kind="territorial").count() == 6
    assert OrgUnit.objects.get(code="SX").children.filter(level="city").count() == 12
    assert not OrgUnit.objects.filter(is_demo=False).exists()
    units = OrgUnit.objects.count()
    call_command("demo")  # a second run changes nothing
    assert OrgUnit.objects.count() == units
    call_command("audit", "verify")


@pytest.mark.once
def test_demo_pages_carry_the_invented_banner(db) -> None:
    from duban.demo.loader import load_demo

    load_demo(activity=False)
    client = Client()
    client.login(username="yz_leader", password="Duban-demo-2017")
    html = client.get("/", follow=True).content.decode()  # a leader lands on his cockpit
    assert 'class="demo-banner"' in html


def test_the_api_document_and_its_page_are_for_people_signed_in(tree) -> None:
    anonymous = Client()
    for path in ("/api/openapi.json", "/api/docs"):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and "/accounts/login/" in answer["Location"], path
    make_user("u", tree.city, "leader")
    client = Client()
    client.login(username="u", password=PASSWORD)
    assert client.get("/api/openapi.json").status_code == 200


def test_pages_and_api_answers_of_a_person_are_never_stored(tree) -> None:
    """Cache-Control: no-store on every authenticated page and every API answer."""
    assert Client().get("/api/accounts/me")["Cache-Control"] == "no-store"
    make_user("u", tree.city, "leader")
    client = Client()
    client.login(username="u", password=PASSWORD)
    for path in ("/", "/orgs/", "/api/accounts/me", "/api/openapi.json"):
        assert client.get(path, follow=True)["Cache-Control"] == "no-store", path


def test_behind_a_tls_proxy_the_forwarded_scheme_is_trusted_only_when_configured(
    monkeypatch,
) -> None:
    import importlib

    import duban.settings as settings_module

    monkeypatch.setenv("DUBAN_PROXY_SSL_HEADER", "X-Forwarded-Proto")
    configured = importlib.reload(settings_module)
    assert configured.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    monkeypatch.delenv("DUBAN_PROXY_SSL_HEADER")
    del settings_module.SECURE_PROXY_SSL_HEADER  # reload keeps what it does not set again
    plain = importlib.reload(settings_module)
    assert not hasattr(plain, "SECURE_PROXY_SSL_HEADER")
