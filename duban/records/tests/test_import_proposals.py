"""An import that lands new records brings the record indicators' proposals with it: the
office imports a file and the form proposes what the records now say, with no step between."""

from __future__ import annotations

from decimal import Decimal

from duban.jobs.models import Job
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.records import services
from duban.records.demo import load_record_types
from duban.records.models import ProposalPeriod
from duban.records.proposals import held_proposals
from duban.records.tests.test_aggregation import make_indicator
from duban.testing import make_user

FILE = (
    "record_id,unit,date,type\n"
    "R1,STATION-A1,2017-01-05,case_filed\n"
    "R2,STATION-A1,2017-01-06,case_filed\n"
    "R3,COUNTY-A,2017-01-07,case_filed\n"
    "R4,COUNTY-B,2017-02-07,case_filed\n"
    "R5,COUNTY-B,2017-02-08,complaint\n"
)


def proposals(ind) -> dict[tuple[str, str], Decimal]:
    codes = dict(OrgUnit.objects.values_list("pk", "code"))
    return {(codes[u], period): value for u, period, value, _n in held_proposals(ind)}


def test_an_office_import_recomputes_the_proposals(
    tree, tmp_path, django_capture_on_commit_callbacks, settings
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    load_record_types()
    ind = make_indicator(tree, "case.filed", "case_filed")
    office = make_user("city_office", tree.city, "office")
    path = tmp_path / "cases.csv"
    path.write_text(FILE, encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        services.import_file(path, name=path.name, user=office, unit=tree.city)
    # Hand-counted: A1 2 in January, its county 2 + 1, county B 1 in February (the complaint
    # is another type); the city and the province hold them all.
    got = proposals(ind)
    assert got[("STATION-A1", "201701")] == 2
    assert got[("COUNTY-A", "201701")] == 3
    assert got[("COUNTY-B", "201702")] == 1
    assert got[("CITY", "201701")] == 3 and got[("CITY", "201702")] == 1
    assert got[("PROV", "201701")] == 3
    job = Job.objects.get(kind="records.recompute")
    assert (job.owner, job.unit) == (office, tree.city)  # by the worker, as the office


def test_the_command_recomputes_at_once_and_a_second_import_changes_nothing(
    tree, tmp_path, django_capture_on_commit_callbacks
) -> None:
    load_record_types()
    ind = make_indicator(tree, "case.filed", "case_filed")
    path = tmp_path / "cases.csv"
    path.write_text(FILE, encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        services.import_file(path, name=path.name, user=SYSTEM, unit=tree.city)
    first = proposals(ind)
    assert first[("CITY", "201701")] == 3
    stamps = sorted(ProposalPeriod.objects.values_list("computed_at", "stored_as"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.import_file(path, name=path.name, user=SYSTEM, unit=tree.city)
    assert callbacks == []  # nothing new: no recompute at all
    assert (again.rows_new, again.rows_known) == (0, 5)
    assert proposals(ind) == first
    assert sorted(ProposalPeriod.objects.values_list("computed_at", "stored_as")) == stamps


def test_no_record_indicator_no_recompute(
    tree, tmp_path, django_capture_on_commit_callbacks
) -> None:
    load_record_types()
    office = make_user("city_office", tree.city, "office")
    path = tmp_path / "cases.csv"
    path.write_text(FILE, encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.import_file(path, name=path.name, user=office, unit=tree.city)
    assert len(callbacks) >= 1  # the refresh was asked for, and found nothing to do
    assert not ProposalPeriod.objects.exists()
