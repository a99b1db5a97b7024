"""Every route, every role — generated (issue 15, item 4).

Every URL pattern (Django's resolver, through every include) and every API operation (the
OpenAPI document, produced in-process) is called as every persona, with every method it
accepts, against objects OUT of the persona's scope: another organisation's, or — for a
county's people — the sibling county's. The answer must be a refusal (403, 404, a redirect to
sign in, 405); a 2xx only where the route names no out-of-scope object (a list, scoped by the
policy) and then without one out-of-scope name or code in it; and no refused call may write a
line about an out-of-scope unit into the audit trail.

Nothing here is written per route: URL and body parameters are filled by `route_params`'s
generator from their names, so a route added later is walked as soon as it exists, and one
with a parameter name the generator does not know fails `test_every_parameter_is_known`
until someone teaches it. Routes that are public or per person are on `PUBLIC`, each with
its reason; `test_public_routes_exist` keeps that list honest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.test import Client

from duban.core.tests import route_walk as walk
from duban.core.tests.route_world import build_org, check_kinds

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
        user: Any = AnonymousUser()
        if persona != walk.ANONYMOUS:
            user = world.home.users[persona]
            client.force_login(user)
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
            missed, count = walk.unreached(client, world)
            misses = set(missed) if misses is None else misses & set(missed)
    assert count > 40
    assert sorted(misses or ()) == sorted(walk.NOT_REACHED), "\n".join(sorted(misses or ()))
