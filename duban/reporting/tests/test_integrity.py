"""Nothing lost, nothing silently changed (issue 10, items 1–4).

1. A write locks its form before reading its state: an import still running when the form
   is submitted and approved cannot change an approved figure (two real connections).
2. Two people on one form: a save made from an older version is refused, naming what the
   other changed; the second person merges; fields he did not touch are never written.
3. A missing value means "unchanged", an explicit null "clear": a comment alone keeps the figure.
4. Thousands separators only in groups of three: "1,5" is refused, naming the cell.
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from duban.accounts.models import User
from duban.audit.models import AuditEntry
from duban.indicators.models import DataSet, Indicator
from duban.reporting import importing, services, values
from duban.reporting.errors import ReportingError
from duban.reporting.models import DataValue, State, Submission
from duban.reporting.tests.conftest import db_dump, make_form, values_of
from duban.testing import logged_in, opened_parts

FORM = "/reporting/forms/CITY-M/COUNTY-A/201712/"
API_FORM = "/api/reporting/forms/CITY-M/COUNTY-A/201712"


def reporter() -> User:
    return User.objects.get(username="county_reporter")


class _Inputs(HTMLParser):
    """The name → value pairs of the entry form's inputs, as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_entry = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._in_entry = "entry" in (a.get("class") or "")
        elif tag == "input" and self._in_entry and a.get("name"):
            self.fields[a["name"] or ""] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_entry = False


def opened(client: Client, url: str = FORM) -> dict[str, str]:
    """What a person's browser holds after opening the form page."""
    response = client.get(url)
    assert response.status_code == 200
    parser = _Inputs()
    parser.feed(response.content.decode())
    assert "version" in parser.fields
    return parser.fields


def save(client: Client, page: dict[str, str], **typed: str):
    """Post the page as it was opened, with `typed` figures changed (v:code=...)."""
    data = dict(page)
    for code, value in typed.items():
        data[f"v:{code.replace('_', '.')}"] = value
    data["do"] = "save"
    return client.post(FORM, data)


# 1. The race: a write and a state change of the same form -----------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_import_running_while_the_form_is_approved_cannot_change_an_approved_figure(
    tree, personas, monkeypatch
) -> None:
    """The reproduction: an import checked the form as a draft; meanwhile the form is
    submitted and approved; the import then wrote 999 as a draft figure of an approved form.
    Now the state change waits for the import (the form row is locked by the write)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): the race needs PostgreSQL")
    make_form(tree, expiry_days=0)
    county_b = tree.county_b
    rep = User.objects.get(username="sibling_reporter")
    approver = User.objects.get(username="city_approver")
    form = services.save_form(
        DataSet.objects.get(code="CITY-M"),
        county_b,
        "201712",
        {"case.filed": "50", "case.solved": "10"},
        user=rep,
    )
    assert form.created == 2

    checked, go = threading.Event(), threading.Event()
    original = values._apply

    def paused_apply(plan, **kwargs):
        if threading.current_thread().name == "import":
            checked.set()
            go.wait(10)
        return original(plan, **kwargs)

    monkeypatch.setattr(values, "_apply", paused_apply)
    outcome: dict[str, object] = {}

    def run_import() -> None:
        try:
            csv = b"indicator,period,unit,value\ncase.filed,201712,COUNTY-B,999\n"
            outcome["import"] = importing.import_file(csv, "csv", user=rep).updated
        except Exception as exc:  # the assertion below shows it
            outcome["import"] = exc
        finally:
            connection.close()

    def run_approval() -> None:
        try:
            sub = Submission.objects.get(unit=county_b, period="201712")
            services.submit(sub, user=rep)
            services.approve(sub, user=approver)
            outcome["approved_at"] = time.monotonic()
        except Exception as exc:
            outcome["approval"] = exc
        finally:
            connection.close()

    importer = threading.Thread(target=run_import, name="import")
    importer.start()
    assert checked.wait(10), "the import never reached its write"
    approval = threading.Thread(target=run_approval, name="approval")
    approval.start()
    approval.join(1.5)
    waited = approval.is_alive()  # blocked on the form's row, held by the import
    released = time.monotonic()
    go.set()
    importer.join(10)
    approval.join(10)

    assert outcome["import"] == 1, outcome
    assert "approval" not in outcome, outcome
    assert waited, "the approval did not wait for the import that had checked the form"
    assert outcome["approved_at"] >= released  # type: ignore[operator]
    sub = Submission.objects.get(unit=county_b, period="201712")
    assert sub.state == State.APPROVED
    figures = {
        v.indicator.code: (v.value, v.state)
        for v in DataValue.objects.filter(unit=county_b, period="201712").select_related(
            "indicator"
        )
    }
    # What was approved is what is stored: 999 went in before the submit, as approved data.
    assert figures["case.filed"] == (Decimal(999), State.APPROVED)
    assert {state for _value, state in figures.values()} == {State.APPROVED}


def test_every_write_locks_the_forms_it_writes_before_reading_their_state(open_form, tree) -> None:
    """On both databases: the form rows are read FOR UPDATE (SQLite ignores the clause; its
    BEGIN IMMEDIATE already holds the one write lock for the whole transaction)."""
    with CaptureQueriesContext(connection) as ctx:
        services.save_form(
            open_form.data_set, tree.county_a, "201712", {"case.filed": "5"}, user=reporter()
        )
    selects = [q["sql"] for q in ctx.captured_queries if '"reporting_submission"' in q["sql"]]
    if connection.vendor == "postgresql":
        assert any("FOR UPDATE" in sql for sql in selects), selects
    reads = [s for s in selects if s.lstrip().upper().startswith("SELECT")]
    writes = [s for s in selects if s.lstrip().upper().startswith("INSERT")]
    assert writes and reads  # the new form is created, then read (locked) before the figures


def test_two_writers_of_one_new_form_do_not_trip_over_its_creation(open_form, tree) -> None:
    """Creating the form row first (ignoring a concurrent creator) leaves one form, not a 500."""
    ds = open_form.data_set
    services.get_or_create_submission(ds, tree.county_a, "201712")  # another writer made it
    result = services.save_form(ds, tree.county_a, "201712", {"case.filed": "4"}, user=reporter())
    assert result.created == 1
    assert Submission.objects.filter(unit=tree.county_a, period="201712").count() == 1


# 2. Lost updates --------------------------------------------------------------------------------


def test_the_second_save_from_an_older_page_is_refused_and_then_merged(open_form, tree) -> None:
    """The reproduction: A and B open the form; A saves case.filed=61; B saves case.solved=25
    from his page, which still shows case.filed=55. B is told what A changed, nothing of his is
    lost, and his second save writes only what he typed."""
    services.save_form(
        open_form.data_set, tree.county_a, "201712", {"case.filed": "55"}, user=reporter()
    )
    a, b = logged_in("county_reporter"), logged_in("county_reporter")
    page_a, page_b = opened(a), opened(b)
    assert page_a["v:case.filed"] == "55" and page_a["version"] == "1"

    assert save(a, page_a, case_filed="61").status_code == 302
    refused = save(b, page_b, case_solved="25")
    assert refused.status_code == 409
    html = refused.content.decode()
    assert "在您打开表单后" in html or "after you opened the form" in html
    assert values_of(tree.county_a, "201712") == {"case.filed": Decimal(61)}  # nothing written

    # The refused page is the merge: A's 61 in the untouched box, B's 25 kept in his.
    parser = _Inputs()
    parser.feed(html)
    merged = parser.fields
    assert merged["v:case.filed"] == "61" and merged["v:case.solved"] == "25"
    assert merged["version"] == "2"
    assert b.post(FORM, {**merged, "do": "save"}).status_code == 302
    assert values_of(tree.county_a, "201712") == {
        "case.filed": Decimal(61),
        "case.solved": Decimal(25),
    }


def test_a_field_changed_by_both_shows_both_values(open_form, tree) -> None:
    services.save_form(
        open_form.data_set, tree.county_a, "201712", {"case.filed": "55"}, user=reporter()
    )
    a, b = logged_in("county_reporter"), logged_in("county_reporter")
    page_a, page_b = opened(a), opened(b)
    save(a, page_a, case_filed="61")
    refused = save(b, page_b, case_filed="60")
    assert refused.status_code == 409
    html = refused.content.decode()
    parser = _Inputs()
    parser.feed(html)
    assert parser.fields["v:case.filed"] == "60"  # his, kept in the box
    assert parser.fields["iv:case.filed"] == "61"  # theirs, what the page now shows as stored
    assert "61" in html and "55" in html  # theirs, and what he saw when he opened it
    assert values_of(tree.county_a, "201712") == {"case.filed": Decimal(61)}


def test_a_save_writes_only_the_fields_the_person_touched(open_form, tree) -> None:
    """Without any concurrent change: an untouched field is not written (no audit row for it,
    its `updated_by` stays the first writer's)."""
    services.save_form(
        open_form.data_set,
        tree.county_a,
        "201712",
        {"case.filed": "55", "case.solved": "5"},
        user=reporter(),
    )
    client = logged_in("county_reporter")
    page = opened(client)
    before = AuditEntry.objects.count()
    assert save(client, page, case_solved="6").status_code == 302
    entries = AuditEntry.objects.order_by("id")[before:]
    changes = [c for e in entries if e.after and "changes" in e.after for c in e.after["changes"]]
    assert [(c[1], c[3], c[4]) for c in changes] == [("case.solved", "5", "6")]


def test_the_api_put_refuses_an_older_version_naming_the_change(open_form, tree) -> None:
    a, b = logged_in("county_reporter"), logged_in("county_reporter")
    version = a.get(API_FORM).json()["version"]
    assert version == 0
    first = a.put(
        API_FORM,
        json.dumps({"version": version, "values": {"case.filed": 61}}),
        content_type="application/json",
    )
    assert first.status_code == 200 and first.json()["version"] == 1
    second = b.put(
        API_FORM,
        json.dumps({"version": version, "values": {"case.solved": 25}}),
        content_type="application/json",
    )
    assert second.status_code == 409
    body = second.json()
    assert body["version"] == 1
    assert [(c["indicator"], c["value"]) for c in body["changed"]] == [("case.filed", "61")]
    assert body["errors"][0]["where"] == "case.filed"
    assert values_of(tree.county_a, "201712") == {"case.filed": Decimal(61)}
    again = b.put(
        API_FORM,
        json.dumps({"version": 1, "values": {"case.solved": 25}}),
        content_type="application/json",
    )
    assert again.status_code == 200 and again.json()["version"] == 2
    assert values_of(tree.county_a, "201712") == {
        "case.filed": Decimal(61),
        "case.solved": Decimal(25),
    }


def test_the_api_put_needs_the_version_it_read(open_form, tree) -> None:
    client = logged_in("county_reporter")
    before = db_dump()
    r = client.put(
        API_FORM, json.dumps({"values": {"case.filed": 1}}), content_type="application/json"
    )
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "version"
    assert db_dump() == before


def test_a_save_that_changes_nothing_keeps_the_version(open_form, tree) -> None:
    ds = open_form.data_set
    services.save_form(ds, tree.county_a, "201712", {"case.filed": "5"}, user=reporter())
    result = services.save_form(
        ds, tree.county_a, "201712", {"case.filed": "5"}, user=reporter(), version=1
    )
    assert result.unchanged == 1 and result.versions == {}
    assert Submission.objects.get(unit=tree.county_a, period="201712").version == 1


def test_submitting_from_an_older_page_shows_the_changes_first(open_form, tree) -> None:
    """Save and submit with nothing typed, after someone changed the form: refused, so
    nobody submits figures he has not seen."""
    ds = open_form.data_set
    services.save_form(ds, tree.county_a, "201712", {"case.filed": "5"}, user=reporter())
    client = logged_in("county_reporter")
    page = opened(client)
    services.save_form(ds, tree.county_a, "201712", {"case.filed": "7"}, user=reporter())
    r = client.post(FORM, {**page, "do": "submit"})
    assert r.status_code == 409
    assert Submission.objects.get(unit=tree.county_a, period="201712").state == State.DRAFT


# 3. Missing means unchanged, null means clear -------------------------------------------------


def test_a_comment_alone_keeps_the_figure(open_form, tree) -> None:
    """The reproduction: PUT {"comments": {...}} turned 12 into NULL."""
    client = logged_in("county_reporter")
    services.save_form(
        open_form.data_set, tree.county_a, "201712", {"case.filed": "12"}, user=reporter()
    )
    r = client.put(
        API_FORM,
        json.dumps({"version": 1, "comments": {"case.filed": "source"}}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["updated"] == 1
    dv = DataValue.objects.get(unit=tree.county_a, period="201712", indicator__code="case.filed")
    assert (dv.value, dv.comment) == (Decimal(12), "source")
    change = AuditEntry.objects.order_by("-id").first().after["changes"][0]
    assert change[3:] == ["12", "12", "", "source"]  # the figure unchanged, the comment added


def test_an_explicit_null_clears_the_figure_and_is_audited_as_cleared(open_form, tree) -> None:
    client = logged_in("county_reporter")
    services.save_form(
        open_form.data_set, tree.county_a, "201712", {"case.filed": "12"}, user=reporter()
    )
    r = client.put(
        API_FORM,
        json.dumps({"version": 1, "values": {"case.filed": None}}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["updated"] == 1
    dv = DataValue.objects.get(unit=tree.county_a, period="201712", indicator__code="case.filed")
    assert dv.value is None
    change = AuditEntry.objects.order_by("-id").first().after["changes"][0]
    assert change[:5] == ["COUNTY-A", "case.filed", "201712", "12", ""]


def test_a_dhis2_value_with_only_a_comment_keeps_the_figure(open_form, tree) -> None:
    services.save_form(
        open_form.data_set, tree.county_a, "201712", {"case.filed": "12"}, user=reporter()
    )
    body = {
        "dataValues": [
            {"dataElement": "case.filed", "period": "201712", "orgUnit": "COUNTY-A", "comment": "x"}
        ]
    }
    result = importing.import_file(json.dumps(body).encode(), "json", user=reporter())
    assert result.updated == 1
    dv = DataValue.objects.get(unit=tree.county_a, period="201712", indicator__code="case.filed")
    assert (dv.value, dv.comment) == (Decimal(12), "x")
    body["dataValues"][0]["value"] = None
    importing.import_file(json.dumps(body).encode(), "json", user=reporter())
    dv.refresh_from_db()
    assert dv.value is None  # an explicit null clears


def test_a_comment_alone_on_a_new_figure_creates_it_without_a_value(open_form, tree) -> None:
    result = services.save_form(
        open_form.data_set,
        tree.county_a,
        "201712",
        {},
        comments={"case.filed": "no figure yet: the system is down"},
        user=reporter(),
    )
    assert result.created == 1
    dv = DataValue.objects.get(unit=tree.county_a, period="201712", indicator__code="case.filed")
    assert dv.value is None and dv.comment.startswith("no figure yet")


def test_validation_rules_see_the_stored_figure_of_a_comment_only_write(open_form, tree) -> None:
    """solved ≤ filed: a comment on case.solved is judged with case.solved's stored value."""
    ds = open_form.data_set
    services.save_form(
        ds, tree.county_a, "201712", {"case.filed": "5", "case.solved": "4"}, user=reporter()
    )
    services.save_form(
        ds, tree.county_a, "201712", {}, comments={"case.solved": "checked"}, user=reporter()
    )
    with pytest.raises(ReportingError, match="cannot exceed"):
        services.save_form(ds, tree.county_a, "201712", {"case.filed": "3"}, user=reporter())


# 4. Digit grouping --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1,500", Decimal(1500)),
        ("12,345", Decimal(12345)),
        ("1,500,000", Decimal(1500000)),
        ("1，500", Decimal(1500)),  # full-width comma, as a Chinese keyboard types it
        ("1500", Decimal(1500)),
        ("15", Decimal(15)),
    ],
)
def test_thousands_separators_in_groups_of_three_are_read(typed: str, stored: Decimal) -> None:
    ind = Indicator(code="case.filed", value_type="integer")
    assert ind.clean_value(typed) == stored


@pytest.mark.parametrize("typed", ["1,5", "1,50", "12,34,567", ",5", "1,", "1,5000", "1,,500"])
def test_a_comma_outside_a_group_of_three_is_refused(typed: str) -> None:
    ind = Indicator(code="case.filed", value_type="integer")
    with pytest.raises(ValueError, match="1,500"):
        ind.clean_value(typed)


def test_grouped_decimals_are_read() -> None:
    ind = Indicator(code="x", value_type="decimal", decimals=1)
    assert ind.clean_value("12,345.6") == Decimal("12345.6")


def test_one_comma_five_in_a_file_is_refused_naming_its_line(open_form, tree) -> None:
    """The reproduction: "1,5" was stored as 15."""
    before = db_dump()
    csv = b'indicator,period,unit,value\ncase.filed,201712,COUNTY-A,"1,5"\n'
    with pytest.raises(ReportingError) as exc:
        importing.import_file(csv, "csv", user=reporter())
    assert [p.where for p in exc.value.problems] == ["line 2"]
    assert "1,500" in exc.value.problems[0].message
    assert db_dump() == before


def test_one_comma_five_on_the_page_is_refused_beside_its_field(open_form, tree) -> None:
    client = logged_in("county_reporter")
    page = opened(client)
    r = save(client, page, case_filed="1,5")
    assert r.status_code == 400
    assert "1,500" in r.content.decode()
    assert values_of(tree.county_a, "201712") == {}


# Control characters in comments (issue 10, item 9: the figures' part) -----------------------


def test_a_control_character_in_a_comment_is_refused_naming_the_cell(open_form, tree) -> None:
    before = db_dump()
    csv = b'indicator,period,unit,value,comment\ncase.filed,201712,COUNTY-A,3,"note\x05x"\n'
    with pytest.raises(ReportingError) as exc:
        importing.import_file(csv, "csv", user=reporter())
    assert [p.where for p in exc.value.problems] == ["line 2"]
    assert "U+0005" in exc.value.problems[0].message
    assert db_dump() == before
    client = logged_in("county_reporter")
    before = db_dump()
    r = client.put(
        API_FORM,
        json.dumps({"version": 0, "comments": {"case.filed": "note\u0005x"}}),
        content_type="application/json",
    )
    assert r.status_code == 400 and "U+0005" in r.json()["errors"][0]["message"]
    assert db_dump() == before


# Many bad rows: a small answer, bounded memory (issue 10, item 12: the reporting part) --------


def test_a_file_of_many_bad_rows_is_refused_with_the_first_problems_and_a_count(
    open_form, tree
) -> None:
    """The reproduction: a 17.5 MB CSV of bad rows answered with a 72 MB error body."""
    from duban.reporting.errors import MAX_PROBLEMS

    lines = ["indicator,period,unit,value"] + [
        f"case.filed,201712,NO-SUCH-UNIT-{n:07d},{n}" for n in range(100_000)
    ]
    data = "\n".join(lines).encode()
    assert len(data) > 3_500_000
    client = logged_in("county_reporter")
    before = db_dump()
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = client.post("/api/reporting/values/import", {"file": SimpleUploadedFile("bad.csv", data)})
    assert r.status_code == 400
    body = r.json()
    assert len(r.content) < 300_000, len(r.content)
    errors = body["errors"]
    assert len(errors) <= MAX_PROBLEMS + 1
    assert errors[0] == {"where": "line 2", "message": "未知的单位代码 'NO-SUCH-UNIT-0000000'"}
    assert str(100_000 - MAX_PROBLEMS) in errors[-1]["message"]
    assert db_dump() == before


def test_a_csv_of_misshapen_lines_is_counted_not_kept(open_form, tree) -> None:
    from duban.reporting import readers
    from duban.reporting.errors import MAX_PROBLEMS

    data = ("indicator,period,unit,value\n" + "a,b\n" * 50_000).encode()
    with pytest.raises(ReportingError) as exc:
        readers.read_csv(data)
    assert len(exc.value.problems) == MAX_PROBLEMS and exc.value.total == 50_000
    shown = exc.value.shown()
    assert shown[0].where == "line 2" and "49000" in shown[-1].message


# Bad files at the figures' import (issue 10, items 11 and 12: the reporting part) -----------


def _import(client: Client, name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/api/reporting/values/import", {"file": SimpleUploadedFile(name, data)})


def test_a_dhis2_value_with_an_absurd_exponent_is_refused_naming_it(open_form, tree) -> None:
    """The reproduction: `1e999999999` was a decimal.Overflow 500."""
    client = logged_in("county_reporter")
    before = db_dump()
    body = b'{"dataValues": [{"dataElement": "case.filed", "period": "201712", "orgUnit": "COUNTY-A", "value": 1e999999999}]}'
    r = client.post("/api/reporting/dataValueSets", body, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["errors"][0]["where"] == "dataValues[0]"
    assert _import(client, "v.json", body).status_code == 400
    assert db_dump() == before


def test_deeply_nested_dhis2_json_is_refused_not_a_recursion_error(open_form, tree) -> None:
    client = logged_in("county_reporter")
    body = b'{"dataValues": [' + b"[" * 5000 + b"]" * 5000 + b"]}"
    r = _import(client, "v.json", body)
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "file"


def test_an_xlsx_with_a_doctype_entity_is_refused_naming_the_file(open_form, tree) -> None:
    from duban.core.tests.test_spreadsheets import rewritten, workbook

    laughs = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;">]>'
    data = rewritten(
        workbook(
            [["indicator", "period", "unit", "value"], ["case.filed", "201712", "COUNTY-A", 3]]
        ),
        "xl/worksheets/sheet1.xml",
        lambda body: (laughs + body.decode().split("?>", 1)[-1]).encode(),
    )
    client = logged_in("county_reporter")
    before = db_dump()
    r = _import(client, "v.xlsx", data)
    assert r.status_code == 400
    assert r.json()["errors"][0]["where"] == "file" and "DOCTYPE" in r.json()["detail"]
    assert db_dump() == before


def test_a_zip_bomb_is_refused_before_it_is_unpacked(open_form, tree, monkeypatch) -> None:
    """The reproduction: 800 KB unpacking to 390 MB kept a worker for 127 s."""
    import io
    import zipfile

    from duban.core.tests.test_spreadsheets import workbook

    source = zipfile.ZipFile(io.BytesIO(workbook([["indicator", "period", "unit", "value"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, source.read(info))
                continue
            with target.open(info.filename, "w", force_zip64=True) as sheet:
                row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000
                for _ in range(100_000_000 // len(row)):
                    sheet.write(row)
    data = out.getvalue()
    assert len(data) < 1_000_000
    client = logged_in("county_reporter")
    opened = opened_parts(monkeypatch)
    r = _import(client, "bomb.xlsx", data)
    assert r.status_code == 400 and r.json()["errors"][0]["where"] == "file"
    assert opened == []  # refused from the zip's directory, not after parsing 100 MB of XML
