"""Every action code is registered and every entry reads as a sentence of names, not codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.test import Client
from django.utils import translation

from duban.audit import services
from duban.audit.labels import field_label, model_label
from duban.audit.models import AuditedModel, AuditEntry
from duban.audit.types import VERBS, ModelChange, Unknown, registry, render
from duban.orgs import services as org_services
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.testing import make_unit, make_user

ROOT = Path(__file__).resolve().parents[2]  # duban/
# record("code", …), record(\n "code", …), write_values(…, action="code"), migrations' action=
LITERAL = re.compile(r'(?:record\(\s*|\baction(?:: str)? ?= ?)"([a-z_]+(?:\.[a-z_]+)+)"')
FORMATTED = re.compile(r'record\(\s*f"([a-z_.]+)\{')
# reporting's transitions: _set_state(sub, State.X, "event", …)
EVENT = re.compile(r'State\.[A-Z]+,\s*"([a-z_]+)"')
# What a reader must never see: an action code (an app's name, then two parts), or a model
# field's attribute name. Indicator codes (sx.crime.filed) are values, shown where no name is.
APPS = "orgs|accounts|access|indicators|reporting|evaluation|tasks|meetings|audit"
DOTTED = re.compile(rf"\b(?:{APPS})\.[a-z_]+\.[a-z_]+\b")


def _sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if "tests" not in p.parts]


def written_codes() -> set[str]:
    """Every action code the code base writes by name (the generic model codes aside)."""
    codes: set[str] = set()
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        codes |= set(LITERAL.findall(text))
        for prefix in FORMATTED.findall(text):
            assert prefix == "reporting.submission.", f"{path}: a computed code {prefix}…"
            codes |= {prefix + event for event in EVENT.findall(text)}
    return codes


def test_every_code_the_code_writes_is_registered() -> None:
    codes = written_codes()
    assert {"access.denied", "reporting.values.imported", "reporting.submission.approved"} <= codes
    assert not codes - registry.codes(), "register these in duban/audit/catalogue.py"


def test_every_transition_of_a_form_is_registered_even_before_it_is_written() -> None:
    events = ("submitted", "returned", "approved", "unapproved", "locked", "unlocked", "withdrawn")
    assert {f"reporting.submission.{e}" for e in events} <= registry.codes()


def test_every_audited_model_has_its_three_change_codes() -> None:
    for model in apps.get_models():
        if issubclass(model, AuditedModel):
            for verb in VERBS:
                assert isinstance(registry.get(services.action_code(model(), verb)), ModelChange)


def test_every_audited_field_and_model_has_a_translated_name() -> None:
    """Django names a field without verbose_name after its code: the trail would show it."""
    missing = []
    with translation.override("zh-hans"):
        for model in apps.get_models():
            if not issubclass(model, AuditedModel):
                continue
            if not model_label(model) or model_label(model).isascii():  # type: ignore[union-attr]
                missing.append(model._meta.label_lower)
            for f in model._meta.concrete_fields:
                label = field_label(f, f.attname)
                if not label or (label.isascii() and f.attname != "sha256"):
                    missing.append(f"{model._meta.label_lower}.{f.attname}")
    assert not missing, "give these a verbose_name, or a name in duban/audit/labels.py"


def test_an_unknown_code_renders_plainly(db) -> None:
    entry = services.record("nobody.wrote.this", object_repr="某对象")
    [row] = render([entry])
    assert isinstance(registry.type_of(entry.action), Unknown)
    assert row.label == "未登记的操作" and "某对象" in row.text and "nobody" not in row.text


def test_a_change_names_fields_choices_and_related_rows(tree) -> None:
    org_services.update_unit(tree.county_a, user=SYSTEM, name_zh="甲县公安局")
    unit = make_unit("NEW", tree.city, level="county", name_zh="新县公安局")
    created, updated = render(
        AuditEntry.objects.filter(action__in=["orgs.orgunit.created", "orgs.orgunit.updated"])
        .filter(object_id__in=[str(unit.pk), str(tree.county_a.pk)])
        .order_by("-pk")[:2]
    )
    assert created.label == "新建组织机构" and created.text == "新建组织机构“新县公安局”"
    rows = {c.label: c.after for c in created.changes}
    assert rows["上级单位"] == tree.city.name and rows["层级"] == "县区局"
    assert ("中文名称", "甲县公安局") in {(c.label, c.after) for c in updated.changes}


def test_names_are_looked_up_once_per_model_for_a_page(tree, django_assert_max_num_queries) -> None:
    for n in range(30):
        make_unit(f"U{n}", tree.city, level="county")
    entries = list(AuditEntry.objects.order_by("-pk")[:50])
    with django_assert_max_num_queries(4):
        render(entries)


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.once
def test_the_demo_trail_reads_in_words(db) -> None:
    """The demo's whole trail, on the history pages and through the API: no code, no field
    attribute name, no unregistered action."""
    from duban.demo.loader import load_demo

    load_demo()
    attnames = {
        f.attname
        for m in apps.get_models()
        if issubclass(m, AuditedModel)
        for f in m._meta.concrete_fields
        if "_" in f.attname
    }
    with translation.override("zh-hans"):
        rows = render(AuditEntry.objects.all())
    assert not [
        r.entry.action for r in rows if isinstance(registry.type_of(r.entry.action), Unknown)
    ]
    for r in rows:
        shown = " ".join([r.label, r.text, *(c.label for c in r.changes)])
        assert not DOTTED.search(shown), shown
        assert not set(re.findall(r"\b\w+\b", shown)) & attnames, shown
        assert all(not c.label.isascii() for c in r.changes), shown

    areas = sorted({a.split(".")[0] for a in AuditEntry.objects.values_list("action", flat=True)})
    for root in OrgUnit.objects.filter(parent=None, is_demo=True):
        client = Client()
        client.force_login(make_user(f"auditor_{root.code}", root, "audit_admin"))
        for area in ["", *areas]:
            query = {"subtree": "1", "action": area}
            text = _visible(client.get(f"/audit/units/{root.code}/", query).content.decode())
            assert not DOTTED.search(text), DOTTED.search(text)
            raw = set(re.findall(r"\b\w+\b", text)) & attnames
            assert not raw, [(w, text[text.index(w) - 80 : text.index(w) + 80]) for w in raw]
        api = client.get(f"/api/audit/units/{root.code}/entries", {"subtree": "true"}).json()
        assert api and all(e["label"] and e["text"] and "." in e["action"] for e in api)


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_history_page_names_the_action(tree, lang: str) -> None:
    auditor = make_user("auditor", tree.city, "audit_admin")
    auditor.language = lang
    auditor.save()
    org_services.update_unit(tree.county_a, user=SYSTEM, name_zh="甲县公安局")
    client = Client()
    client.force_login(auditor)
    page = _visible(client.get("/audit/units/COUNTY-A/").content.decode())
    assert "orgs.orgunit" not in page and "name_zh" not in page
    assert ("修改组织机构" if lang == "zh-hans" else "organisation unit changed") in page


def test_codes_in_lists_are_named_and_the_program_that_acted_is_said(tree) -> None:
    """An indicator's reporting levels and kinds read 县区局 and 地区单位, not county and
    territorial; its code is marked a code and its English name English; an entry no person
    made names the program (the demo loader), one a person made names him."""
    from duban.audit.context import acting_as
    from duban.indicators import services as indicators
    from duban.periods import PeriodType

    office = make_user("office", tree.city, "system_admin", full_name="市局系统管理员")
    with acting_as(source="duban demo", reason="演示数据"):
        indicators.create_indicator(
            user=SYSTEM, issuer=tree.city, code="case.filed", name_zh="立案数",
            name_en="Cases filed", description="", value_type="integer", decimals=0,
            period_type=PeriodType.MONTHLY, time_aggregation="sum",
            levels=["county", "station"], kinds=["territorial"],
        )  # fmt: skip
    with acting_as(actor=office, source="web"):
        org_services.update_unit(tree.county_a, user=office, name_zh="甲县公安局")
    with translation.override("zh-hans"):
        created, updated = render(
            AuditEntry.objects.filter(
                action__in=["indicators.indicator.created", "orgs.orgunit.updated"]
            ).order_by("pk")
        )
    rows = {c.label: c for c in created.changes}
    assert rows["填报层级"].after == "县区局、派出所"
    assert rows["填报单位类别"].after == "地区单位"
    assert (rows["代码"].form, rows["英文名称"].form, rows["中文名称"].form) == ("code", "en", "")
    assert created.who == "演示数据装载"
    assert updated.who == "市局系统管理员"


def test_a_link_row_is_named_by_its_two_rows_and_derived_fields_stay_out(tree) -> None:
    """A meeting's attending unit reads “会议 · 甲县局”, not “4: COUNTY-A”; a unit's path and
    depth (kept in step with its parent) are not listed as changes."""
    from datetime import date

    from duban.meetings import services as meetings

    meetings.create_meeting(
        tree.city, user=SYSTEM, kind="dispatch", held_on=date(2017, 12, 8),
        title="全市视频调度会", participants=[tree.county_a],
    )  # fmt: skip
    with translation.override("zh-hans"):
        [attends] = render(AuditEntry.objects.filter(action="meetings.meetingunit.created"))
        [unit] = render(AuditEntry.objects.filter(action="orgs.orgunit.created")[:1])
    assert attends.text == "新建参会单位“全市视频调度会 · 甲县局”"
    assert not {"层级路径", "层级深度"} & {c.label for c in unit.changes}
