from __future__ import annotations

import pytest
from django.test import Client

from duban.audit import chain, services
from duban.audit.context import acting_as
from duban.audit.models import AuditEntry, AuditHead
from duban.orgs import services as org_services
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.testing import PASSWORD, make_unit, make_user


def test_create_update_delete_are_recorded_with_before_and_after(db) -> None:
    actor = make_user("actor")
    with acting_as(actor=actor, ip="10.1.2.3", source="web"):
        unit = make_unit("U1", None, level="city", name_zh="旧名")
        unit.name_zh = "新名"
        unit.save()
        with acting_as(reason="merged into U2"):
            unit.delete()
    created, updated, deleted = AuditEntry.objects.filter(object_type="orgs.orgunit").order_by("pk")
    assert created.action == "orgs.orgunit.created" and created.after["name_zh"] == "旧名"
    assert created.before is None
    assert updated.action == "orgs.orgunit.updated"
    assert (updated.before, updated.after) == ({"name_zh": "旧名"}, {"name_zh": "新名"})
    assert deleted.action == "orgs.orgunit.deleted" and deleted.reason == "merged into U2"
    assert {e.actor_id for e in (created, updated, deleted)} == {actor.pk}
    assert {e.ip for e in (created, updated, deleted)} == {"10.1.2.3"}


def test_a_save_that_changes_nothing_writes_no_entry(db) -> None:
    unit = make_unit("U1", None, level="city")
    count = AuditEntry.objects.count()
    OrgUnit.objects.get(pk=unit.pk).save()
    assert AuditEntry.objects.count() == count


def test_passwords_never_reach_the_trail(db) -> None:
    user = make_user("someone")
    entry = AuditEntry.objects.get(action="accounts.user.created", object_id=str(user.pk))
    assert entry.after["password"] == "[changed]"


def test_change_fails_when_its_entry_cannot_be_written(db, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "entry_mac", broken)
    with pytest.raises(RuntimeError):
        make_unit("LOST", None, level="city")
    assert not OrgUnit.objects.filter(code="LOST").exists()


def test_entries_are_append_only(db) -> None:
    make_unit("U1", None, level="city")
    entry = AuditEntry.objects.first()
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_bulk_update_writes_one_entry_per_changed_row(db) -> None:
    a = make_unit("A", None, level="city")
    make_unit("B", None, level="city", is_active=False)
    last = AuditEntry.objects.order_by("-pk").first().pk
    assert (
        services.audited_update(OrgUnit.objects.all(), reason="deactivate all", is_active=False)
        == 2
    )
    new = list(AuditEntry.objects.filter(pk__gt=last))
    assert [(e.object_id, e.before, e.after, e.reason) for e in new] == [
        (str(a.pk), {"is_active": True}, {"is_active": False}, "deactivate all")
    ]


def test_logins_failures_and_refusals_are_recorded(tree) -> None:
    make_user("reporter", tree.county_a, "reporter")
    client = Client(REMOTE_ADDR="10.9.8.7")
    client.post("/accounts/login/", {"username": "reporter", "password": "wrong"})
    failed = AuditEntry.objects.get(action="accounts.login.failed")
    assert (failed.object_repr, failed.ip) == ("reporter", "10.9.8.7")
    client.post("/accounts/login/", {"username": "reporter", "password": PASSWORD})
    assert AuditEntry.objects.filter(
        action="accounts.login.succeeded", actor__username="reporter"
    ).exists()
    assert client.get(f"/orgs/units/{tree.county_b.code}/").status_code == 403
    denied = AuditEntry.objects.get(action="access.denied")
    assert denied.actor.username == "reporter"
    assert denied.after == {"method": "GET", "path": "/orgs/units/COUNTY-B/"}


def test_history_page_shows_the_units_entries(tree) -> None:
    make_user("auditor", tree.city, "audit_admin")
    org_services.update_unit(tree.county_a, user=SYSTEM, name_zh="甲县公安局")
    client = Client()
    client.login(username="auditor", password=PASSWORD)
    page = client.get("/audit/units/COUNTY-A/").content.decode()
    assert "修改组织机构" in page and "甲县公安局" in page


def test_entries_take_the_next_position_and_id_and_the_head_signs_them(db) -> None:
    for code in ("A", "B", "C"):
        make_unit(code, None, level="city")
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [(e.pk, e.seq) for e in entries] == [(1, 1), (2, 2), (3, 3)]
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert all(e.intact for e in entries)
    head = AuditHead.objects.get()
    assert (head.count, head.last_entry_id, head.last_hash) == (3, 3, entries[-1].hash)
    assert head.mac == chain.head_mac(3, 3, entries[-1].hash)


def test_the_mac_needs_the_key(db, settings) -> None:
    make_unit("A", None, level="city")
    entry = AuditEntry.objects.get()
    settings.DUBAN_AUDIT_KEY = "another key of at least thirty-two characters"
    assert not AuditEntry.objects.get().intact
    assert entry.hash != chain.entry_mac(entry)


def test_nothing_is_written_while_the_head_is_missing(db) -> None:
    make_unit("A", None, level="city")
    AuditHead.objects.all().delete()
    with pytest.raises(services.AuditChainError, match="audit verify"):
        make_unit("B", None, level="city")
    assert not OrgUnit.objects.filter(code="B").exists()
