"""The tests' copy of the demo (`duban.testing_demo`) writes what the loader wrote."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from duban import testing_demo
from duban.accounts.models import User
from duban.orgs.models import OrgUnit
from duban.testing import make_unit, make_user

pytestmark = pytest.mark.django_db


def _everything() -> dict[str, list[tuple[Any, ...]]]:
    return {t: testing_demo._select(t) for t in testing_demo._tables()}


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """A fresh set of snapshots, and a record of each time the real loader ran."""
    monkeypatch.setattr(testing_demo, "_SNAPSHOTS", {})
    ran: list[bool] = []
    real = testing_demo.load_demo

    def counted(**kwargs: Any) -> Any:
        ran.append(kwargs["activity"])
        return real(**kwargs)

    monkeypatch.setattr(testing_demo, "load_demo", counted)
    return ran


def test_the_second_load_is_a_copy_of_the_first(loads: list[bool]) -> None:
    empty = _everything()
    with transaction.atomic():
        first_accounts = testing_demo.load_demo_copy(activity=False)
        first = _everything()
        transaction.set_rollback(True)
    assert _everything() == empty
    assert OrgUnit.objects.count() == 0
    second_accounts = testing_demo.load_demo_copy(activity=False)
    assert loads == [False]  # the loader ran once; the second is the copy
    assert _everything() == first
    assert second_accounts == first_accounts
    assert OrgUnit.objects.get(code="YZ").children.count() == 19
    assert User.objects.filter(username="yz_office").exists()
    # The sequences moved past the copied keys: new rows still get their own.
    make_user("after_the_copy", OrgUnit.objects.get(code="YZ"), "leader")
    unit = make_unit("ZZ-NEW", OrgUnit.objects.get(code="YZ"))
    assert unit.pk > max(OrgUnit.objects.exclude(pk=unit.pk).values_list("pk", flat=True))


def test_a_database_that_is_not_where_the_first_load_began_gets_the_real_loader(
    loads: list[bool],
) -> None:
    with transaction.atomic():
        testing_demo.load_demo_copy(activity=False)
        transaction.set_rollback(True)
    make_user("already_here", make_unit("X"), "leader")
    testing_demo.load_demo_copy(activity=False)
    assert loads == [False, False]
    assert User.objects.filter(username="already_here").exists()
    assert User.objects.filter(username="yz_office").exists()


def test_other_arguments_or_settings_get_their_own_load(loads: list[bool], settings: Any) -> None:
    with transaction.atomic():
        testing_demo.load_demo_copy(activity=False)
        transaction.set_rollback(True)
    settings.DUBAN_REQUIRE_SECOND_FACTOR = True
    with transaction.atomic():
        testing_demo.load_demo_copy(activity=False)
        transaction.set_rollback(True)
    assert loads == [False, False]
