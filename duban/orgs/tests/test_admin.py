"""Every admin list is scoped by the policy (issue 10, item 6).

The test walks `admin.site._registry`, so a model registered later is walked too: it fails
unless its model admin is a `PolicyAdmin` stating how its rows are scoped (`unit_field`),
and unless the demo below gives it rows in both organisations to tell them apart.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from duban.admin import PolicyAdmin
from duban.demo.loader import DEMO_PASSWORD, load_demo
from duban.orgs import services
from duban.orgs.models import OrgUnit, UnitMove
from duban.orgs.policy import SYSTEM

pytestmark = pytest.mark.django_db

# The demo's administrators, and the part of the tree each one's admin pages may show
# (written by hand, not asked of the policy); None: no admin pages at all.
ADMINISTRATORS: dict[str, str | None] = {
    "yz_sysadmin": "/YZ/",
    "sx_sysadmin": "/SX/",
    "yz_secadmin": None,
    "sx_secadmin": None,
    "yz_auditor": None,
    "sx_auditor": None,
}
ROOTS = ["/YZ/", "/SX/"]


def _figures() -> None:
    """A figure in each organisation (the demo without activity enters none), through the
    writer's fixture path."""
    from duban.indicators.models import Indicator
    from duban.reporting.tests.conftest import put_figure

    indicator = Indicator.objects.order_by("pk").first() or Indicator.objects.create(
        code="admin.walk", name_zh="管理页巡查", value_type="integer",
        issuer=OrgUnit.objects.get(code="YZ"),
    )  # fmt: skip
    for code in ("YZ", "SX"):
        put_figure(OrgUnit.objects.get(code=code), indicator, "201701", 1)


def _moves() -> None:
    """A unit move in each organisation, each with its reason."""
    unit = OrgUnit.objects.get
    services.move_unit(
        unit(code="YZ-LST-FH"),
        unit(code="YZ-LL"),
        user=SYSTEM,
        reason="永州辖区调整：凤凰所划归零陵",
    )
    services.move_unit(
        unit(code="SX-XA-YT"), unit(code="SX-BJ"), user=SYSTEM, reason="陕西机构改革：雁塔分局调整"
    )


def _paths(model_admin: PolicyAdmin, model: type[Model]) -> dict[Any, str]:
    """Each row's pk and the path of the unit that decides its scope."""
    field = f"{model_admin.unit_field}__path" if model_admin.unit_field else "path"
    return dict(model._default_manager.values_list("pk", field))


def _url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _faults(client: Client, who: str, model: type[Model], model_admin: Any) -> list[str]:
    name = f"{who} {model._meta.label}"
    if not isinstance(model_admin, PolicyAdmin) or getattr(model_admin, "unit_field", None) is None:
        return [f"{model._meta.label}: its admin does not say how its rows are scoped"]
    rows = _paths(model_admin, model)
    by_root = {root: {pk for pk, path in rows.items() if path.startswith(root)} for root in ROOTS}
    if not all(by_root.values()):
        return [f"{model._meta.label}: the test has no rows of it in each organisation"]
    reach = ADMINISTRATORS[who]
    listed = client.get(_url(model, "changelist"))
    if reach is None:
        faults = (
            [] if listed.status_code == 302 else [f"{name}: list answered {listed.status_code}"]
        )
        if client.get(_url(model, "changelist"), follow=True).status_code != 403:
            faults.append(f"{name}: the list does not end in a 403")
        for pks in by_root.values():
            if client.get(_url(model, "change", min(pks))).status_code != 302:
                faults.append(f"{name}: a change page did not send him away")
        return faults
    if listed.status_code != 200:
        return [f"{name}: list answered {listed.status_code}"]
    shown = set(listed.context["cl"].queryset.values_list("pk", flat=True))
    inside = {pk for pk, path in rows.items() if path.startswith(reach)}
    faults = []
    if shown != inside:
        faults.append(
            f"{name}: lists {len(shown - inside)} rows out of reach, misses {len(inside - shown)}"
        )
    html = listed.content.decode()
    if any(_url(model, "change", pk) in html for pk in set(rows) - inside):
        faults.append(f"{name}: the list links a row out of reach")
    if client.get(_url(model, "change", min(inside))).status_code != 200:
        faults.append(f"{name}: the change page of a row in reach does not open")
    outside = client.get(_url(model, "change", min(set(rows) - inside)), follow=True)
    if outside.status_code != 200 or outside.redirect_chain[-1][0] != reverse("admin:index"):
        faults.append(f"{name}: the change page of a row out of reach is not refused")
    return faults


def test_every_admin_list_shows_each_administrator_only_his_own_tree() -> None:
    load_demo(activity=False)
    _moves()
    _figures()
    assert UnitMove.objects.count() == 2
    faults = []
    for who in ADMINISTRATORS:
        client = Client()
        assert client.login(username=who, password=DEMO_PASSWORD)
        for model, model_admin in admin.site._registry.items():
            faults += _faults(client, who, model, model_admin)
    assert faults == []


def test_the_system_administrator_does_not_read_another_organisations_unit_moves() -> None:
    """The reproduction: yz_sysadmin at /admin/orgs/unitmove/ saw the Shaanxi move and its reason."""
    load_demo(activity=False)
    _moves()
    client = Client()
    assert client.login(username="yz_sysadmin", password=DEMO_PASSWORD)
    html = client.get("/admin/orgs/unitmove/").content.decode()
    assert "永州辖区调整" in html
    assert "陕西机构改革" not in html and "SX-XA-YT" not in html
    sx_move = UnitMove.objects.get(unit__code="SX-XA-YT")
    r = client.get(f"/admin/orgs/unitmove/{sx_move.pk}/change/")
    assert r.status_code == 302 and "陕西机构改革" not in r.content.decode()


def test_a_model_admin_that_does_not_state_its_scope_is_caught(rf) -> None:
    """What a later registration meets: the walk reports it, and its pages fail loudly."""
    from django.contrib.auth.models import Group
    from django.core.exceptions import ImproperlyConfigured

    class Unstated(PolicyAdmin):
        pass

    plain = admin.ModelAdmin(Group, admin.site)
    assert _faults(Client(), "yz_sysadmin", Group, plain) == [
        "auth.Group: its admin does not say how its rows are scoped"
    ]
    with pytest.raises(ImproperlyConfigured, match="Unstated does not state its unit_field"):
        Unstated(Group, admin.site).get_queryset(rf.get("/admin/"))
    assert not admin.site.is_registered(Group)  # Django's groups are not Duban's roles


def test_a_control_character_typed_in_the_admin_is_named_beside_its_field() -> None:
    """The save's own check (duban.core.saving) runs in the admin's form: a form error, not a
    500, and the unit keeps its name."""
    load_demo(activity=False)
    client = Client()
    assert client.login(username="yz_sysadmin", password=DEMO_PASSWORD)
    unit = OrgUnit.objects.get(code="YZ-LST")
    url = reverse("admin:orgs_orgunit_change", args=[unit.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(name_zh="冷水滩\x05分局", sort_order=unit.sort_order, kind=unit.kind)
    if unit.is_active:
        data["is_active"] = "on"
    r = client.post(url, data)
    assert r.status_code == 200
    assert "U+0005" in str(r.context["adminform"].form.errors.get("name_zh"))
    unit.refresh_from_db()
    assert "\x05" not in unit.name_zh
