"""PATCH /api/meetings/meetings/N: a field sent as null is refused by name, never a 500."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from duban.meetings import services
from duban.meetings.api import MeetingPatch
from duban.meetings.models import Meeting
from duban.orgs.policy import SYSTEM
from duban.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_null_is_refused_for_every_field_by_name_and_nothing_changes(tree) -> None:
    make_user("city_office", tree.city, "office")
    meeting = services.create_meeting(
        tree.city,
        user=SYSTEM,
        kind="dispatch",
        title="调度会",
        held_on=date(2017, 12, 8),
        main_venue="市局指挥中心",
        branch_venues="甲县局分会场",
        participants=[tree.county_a],
        agenda="一、汇报",
        minutes="纪要",
    )
    client = Client()
    assert client.login(username="city_office", password=PASSWORD)
    before = Meeting.objects.get(pk=meeting.pk)
    answers = {}
    # Every field of the schema, so a field added later is covered too.
    for name in MeetingPatch.model_fields:
        r = client.patch(
            f"/api/meetings/meetings/{meeting.pk}",
            json.dumps({name: None}),
            content_type="application/json",
        )
        answers[name] = (r.status_code, [e["where"] for e in r.json()["errors"]])
    assert answers == {name: (400, [name]) for name in MeetingPatch.model_fields}
    after = Meeting.objects.get(pk=meeting.pk)
    assert [getattr(after, f) for f in services.MEETING_FIELDS] == [
        getattr(before, f) for f in services.MEETING_FIELDS
    ]
    assert [p.unit.code for p in after.participants.all()] == ["COUNTY-A"]


def test_empty_values_still_clear_and_the_refusal_reads_in_chinese(tree) -> None:
    make_user("city_office", tree.city, "office")
    meeting = services.create_meeting(
        tree.city,
        user=SYSTEM,
        kind="dispatch",
        title="调度会",
        held_on=date(2017, 12, 8),
        participants=[tree.county_a],
        agenda="一、汇报",
    )
    client = Client()
    assert client.login(username="city_office", password=PASSWORD)
    url = f"/api/meetings/meetings/{meeting.pk}"
    r = client.patch(url, json.dumps({"agenda": None}), content_type="application/json")
    assert r.status_code == 400 and "null" in r.json()["errors"][0]["message"]
    assert "清空" in r.json()["errors"][0]["message"]
    r = client.patch(
        url, json.dumps({"agenda": "", "participants": []}), content_type="application/json"
    )
    assert r.status_code == 200
    assert (r.json()["agenda"], r.json()["participants"]) == ("", [])
