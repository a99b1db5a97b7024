"""Every route, every role — generated (issue 15, item 4).

Every URL pattern (Django's resolver, through every include) and every API operation (the
OpenAPI document, produced in-process) is called as every persona, with every method it
accepts, against objects OUT of the persona's scope: another organisation's, or — for a
county's people — the sibling county's. The answer must be a refusal (401, 403, 404, a redirect to
sign in, 405); a 2xx only where the route names no out-of-scope object (a list, scoped by the
policy) and then without one out-of-scope name or code in it; and no refused call may write a
line about an out-of-scope unit into the audit trail.

A route that names no out-of-scope object in its path (a list, a new object's form) may
also answer another 4xx — a filter or a field naming a unit out of reach is refused as bad
input, the filters asking the policy — again without out-of-scope data. 401 is the API's
refusal of someone not signed in.

Nothing here is written per route: URL and body parameters are filled by `route_walk`'s
generator from their names, so a route added later is walked as soon as it exists, and one
with a parameter name the generator does not know fails `test_every_parameter_is_known`
until someone teaches it. Routes that are public or per person are on `PUBLIC`, each with
its reason; `test_public_routes_exist` keeps that list honest. The control
(`test_the_generated_calls_reach_the_views`) proves the generated URLs open the pages when
their objects are in scope, so the refusals are the policy's, not dead links.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import Client

from duban.core.tests import route_walk as walk
from duban.core.tests.route_world import build_org, check_kinds

# Whether a view asks the policy does not depend on the database: the first run proves it (the
# policy's SQL runs on both through the permission matrices and the policy's properties).
# One worker walks every persona (`xdist_group`), so the two worlds are built once.
pytestmark = [pytest.mark.once, pytest.mark.xdist_group("every-route")]
CLOCK = "2017-12-20 10:00 +0800"
# Between them, these people's scope holds every object of the home organisation.
CONTROL = ["root_office", "root_system_admin", "root_security_admin", "root_audit_admin",
           "c2_reporter"]  # fmt: skip


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[walk.World]:
    """Both organisations, built once for the module (the walk's cells each run in a
    savepoint rolled back, so none sees another's writes)."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(CLOCK, tick=False),
        transaction.atomic(),
    ):
        home = build_org("HOME", "本市")
        foreign = build_org("FRN", "外省")
        check_kinds(home)
        check_kinds(foreign)
        yield walk.World(home=home, foreign=foreign)
        transaction.set_rollback(True)


def test_every_parameter_is_known() -> None:
    """A new route with a parameter the generator cannot fill fails here, loudly."""
    unknown = walk.unknown_parameters(walk.all_routes())
    assert unknown == [], "teach route_walk.KINDS these parameters: " + "; ".join(unknown)


def test_public_routes_exist() -> None:
    routes = {r.route for r in walk.all_routes()}
    assert set(walk.PUBLIC) - routes == set(), "PUBLIC names routes that no longer exist"


def test_routes_and_operations_agree() -> None:
    """Each API path the resolver serves is an operation of the OpenAPI document and back:
    the walk reads methods from the document, so a route outside it would go unwalked."""
    assert walk.api_paths_without_operation() == []


@pytest.mark.django_db
@pytest.mark.parametrize("persona", walk.PERSONAS)
def test_no_route_answers_out_of_scope_data(world: walk.World, persona: str) -> None:
    with time_machine.travel(CLOCK, tick=False):
        client = Client(raise_request_exception=False)
        if persona != walk.ANONYMOUS:
            client.force_login(world.home.users[persona])
        faults, cells = walk.walk(client, world, persona)
    assert cells > 150, f"only {cells} cells walked"
    assert faults == [], f"{len(faults)} wrong cells of {cells}:\n" + "\n".join(faults)


@pytest.mark.django_db
def test_the_generated_calls_reach_the_views(world: walk.World) -> None:
    """The control: the same generated GETs with the home organisation's objects, by people
    whose scope they are in, open the pages — so the walk's refusals come from the policy,
    not from URLs that lead nowhere."""
    with time_machine.travel(CLOCK, tick=False):
        misses: set[str] | None = None
        for who in CONTROL:
            client = Client(raise_request_exception=False)
            client.force_login(world.home.users[who])
            missed, count = unreached(client, world)
            misses = set(missed) if misses is None else misses & set(missed)
    assert count > 40
    assert sorted(misses or ()) == sorted(NOT_REACHED), "\n".join(sorted(misses or ()))


def home_values(world: walk.World) -> dict[str, str]:
    """The generator's kinds filled from the home organisation: in scope of its root's
    people, for the control walk that proves the generated calls reach the views."""
    from django.contrib.contenttypes.models import ContentType

    from duban.orgs.models import OrgUnit

    h = world.home
    out = {k: str(getattr(h, k)) for k in ORG_KINDS}
    out |= {
        "unit": h.units["c2"].code,
        "unit_pk": str(h.units["c2"].pk),
        "content_type": str(ContentType.objects.get_for_model(OrgUnit).pk),
    }
    return out | walk.VOCABULARY


ORG_KINDS = (
    "data_set", "indicator", "scheme", "publication", "objection", "bulletin", "meeting",
    "matter", "form_evidence", "lock_exception", "task_evidence", "task", "milestone",
    "reminder", "report", "rule", "membership", "job", "unit_move", "data_value",
    "record_import",
)  # fmt: skip


def unreached(client: Client, world: walk.World) -> tuple[list[str], int]:
    """The GET routes naming an object that do not answer 2xx with in-scope values."""
    vals = home_values(world)
    misses: list[str] = []
    count = 0
    logging.disable(logging.CRITICAL)
    try:
        for cell in walk.cells(walk.all_routes(), vals, set(ORG_KINDS) | {"unit"}, {}):
            if cell.method != "get" or not cell.names_foreign:
                continue
            count += 1
            with transaction.atomic():
                status = client.get(cell.url).status_code
                transaction.set_rollback(True)
            if not 200 <= status < 400 and status != 405:  # 405: a POST-only route
                misses.append(f"{cell.route.route} {status}")
    finally:
        logging.disable(logging.NOTSET)
    return misses, count


# GET routes naming an object that none of the control's people opens with a plain GET, and why.
NOT_REACHED: dict[str, str] = {
    "evaluation/schemes/<str:code>/lines/<str:line>/ 403": "a line's scores are its division's",
    "jobs/<uuid:job_id>/file/ 404": "the world's job has made no file",
}
