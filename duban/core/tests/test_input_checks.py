"""What no input may hold, refused in one place each (issue 10, items 9, 11, 12).

A control character reaches no column (the pre_save check names the model field, so the
API and the page put it beside the field); any JSON body is refused whole when a string
holds one or when it nests past any real document; a `null` for a NOT NULL column is a
400, not an IntegrityError; however many problems an input has, the answer stays small.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from duban.accounts.models import User
from duban.audit.models import AuditEntry
from duban.core.json_input import MAX_DEPTH, load_json
from duban.errors import DubanError, InputError, Problem, ProblemList
from duban.evaluation import services as evaluation
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import SchemeItem
from duban.indicators.models import Indicator
from duban.orgs.policy import SYSTEM
from duban.reporting.tests.conftest import make_form, values_of
from duban.tasks.models import Task
from duban.tasks.tests.factories import make_task
from duban.testing import logged_in

CONTROL = "note\u0005x"


def patch(client: Client, url: str, body: object) -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return client.patch(url, text, content_type="application/json")


# Control characters -------------------------------------------------------------------


def test_a_save_with_a_control_character_is_refused_naming_the_model_field(tree) -> None:
    task = make_task(tree.city, tree.county_a)
    task.title = "推进\x05工作"
    with pytest.raises(InputError) as caught:
        task.save()
    assert [p.where for p in caught.value.problems] == ["title"]
    assert "U+0005" in caught.value.problems[0].message
    assert Task.objects.get(pk=task.pk).title == "推进执法规范化建设"


def test_account_names_are_checked_too(tree) -> None:
    user = User(username="u1", full_name="张\x1f三")
    with pytest.raises(InputError) as caught:
        user.save()
    assert caught.value.problems[0].where == "full_name"
    assert "U+001F" in caught.value.problems[0].message


def test_tab_and_line_breaks_are_text(tree) -> None:
    task = make_task(tree.city, tree.county_a, description="第一行\n第二行\r\n\t缩进")
    assert Task.objects.get(pk=task.pk).description == "第一行\n第二行\r\n\t缩进"


def test_a_row_stored_before_the_check_still_saves_its_other_fields(tree) -> None:
    """Only what the save changes is judged; the old title waits for someone to edit it."""
    task = make_task(tree.city, tree.county_a)
    Task.objects.filter(pk=task.pk).update(title="旧\x05标题")
    task = Task.objects.get(pk=task.pk)
    task.responsible = "李四"
    task.save()
    assert Task.objects.get(pk=task.pk).responsible == "李四"


def test_the_api_refuses_a_control_character_anywhere_in_the_body(tree, personas) -> None:
    """The reporter's comment (issue 10, item 9): refused naming its JSON path, nothing kept."""
    make_form(tree, expiry_days=0)
    reporter = logged_in("county_reporter")
    before = AuditEntry.objects.count()
    r = reporter.put(
        "/api/reporting/forms/CITY-M/COUNTY-A/201712",
        json.dumps({"values": {"case.filed": 3}, "comments": {"case.filed": CONTROL}}),
        content_type="application/json",
    )
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"where": "comments.case.filed", "message": "含有不可见的控制字符 U+0005，请删除后重试"}
    ]
    assert values_of(tree.county_a, "201712") == {}
    assert AuditEntry.objects.count() == before


def test_a_task_title_with_a_control_character_is_a_400_in_english_too(tree, personas) -> None:
    task = make_task(tree.city, tree.county_a)
    office = logged_in("prov_office")
    office.post("/accounts/language/", {"language": "en"})
    r = patch(office, f"/api/tasks/tasks/{task.pk}", {"title": "a\x05b"})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {
            "where": "title",
            "message": "contains the invisible control character U+0005; delete it and try again",
        }
    ]
    assert Task.objects.get(pk=task.pk).title == "推进执法规范化建设"


def test_the_page_form_shows_the_refusal_beside_the_field(tree, personas) -> None:
    """The task edit page: the pre_save check's problem lands on the form's title field."""
    task = make_task(tree.city, tree.county_a)
    office = logged_in("prov_office")
    r = office.post(
        f"/tasks/{task.pk}/edit/",
        {
            "kind": task.kind,
            "title": "推进\x05工作",
            "lead_unit": tree.county_a.pk,
            "start_date": "2017-01-01",
            "due_date": "2017-12-31",
            "indicator_higher_is_better": "on",
        },
    )
    assert r.status_code == 200
    assert r.context["form"].errors["title"] == ["含有不可见的控制字符 U+0005，请删除后重试"]
    assert Task.objects.get(pk=task.pk).title == "推进执法规范化建设"


def test_the_account_page_shows_the_refusal_beside_full_name(tree, personas) -> None:
    r = logged_in("city_secadmin").post(
        "/accounts/members/CITY/",
        {
            "form": "create",
            "new-username": "newbie",
            "new-full_name": "王\x07五",
            "new-password": "Long-enough-2017!",
            "new-role": "reporter",
        },
    )
    assert r.status_code == 200
    assert "U+0007" in r.context["account_form"].errors["full_name"][0]
    assert not User.objects.filter(username="newbie").exists()


# JSON bodies --------------------------------------------------------------------------


@pytest.fixture
def scheme(tree):
    from duban.evaluation.tests.conftest import scheme_data

    for code in ("t.solved", "t.poll"):
        Indicator.objects.create(
            code=code, name_zh=code, value_type="decimal", issuer=tree.province
        )
    return evaluation.save_engine_scheme(data_to_engine(scheme_data()), user=SYSTEM)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 600, 100_000])
def test_deeply_nested_json_is_a_400_naming_where(tree, personas, scheme, depth: int) -> None:
    """A rule nested 600 deep was a RecursionError (500) in the engine; 100,000 a bare 400."""
    rule = SchemeItem.objects.get(scheme=scheme, code="solved").rule
    body = '{"rule": {"kind": "attainment", "x": ' + "[" * depth + "]" * depth + "}}"
    r = patch(logged_in("prov_office"), "/api/evaluation/schemes/t-2017/items/solved", body)
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert error["message"] == f"嵌套超过 {MAX_DEPTH} 层"
    assert error["where"] == "body" or error["where"].startswith("rule.x[0][0]")
    assert SchemeItem.objects.get(scheme=scheme, code="solved").rule == rule


def test_a_body_that_is_not_json_says_where(tree, personas) -> None:
    task = make_task(tree.city, tree.county_a)
    r = patch(logged_in("prov_office"), f"/api/tasks/tasks/{task.pk}", '{"title": ')
    assert r.status_code == 400
    assert r.json()["errors"][0]["where"] == "body"
    assert "第 1 行" in r.json()["errors"][0]["message"]


def test_load_json_for_files() -> None:
    """What a reader of JSON files (a DHIS2 dataValueSet) calls instead of json.loads."""
    from decimal import Decimal

    doc = load_json(b'{"dataValues": [{"value": 1.5}]}', where="file", parse_float=Decimal)
    assert doc == {"dataValues": [{"value": Decimal("1.5")}]}
    with pytest.raises(InputError) as caught:
        load_json('{"dataValues": [{"comment": "a\\u0005"}, {"value": NaN}]}', where="file")
    assert caught.value.problems[0].where == "file"
    with pytest.raises(InputError) as caught:
        load_json('{"dataValues": [{"comment": "ok"}, {"comment": "a\\u0005"}]}', where="file")
    assert caught.value.problems[0].where == "dataValues[1].comment"
    with pytest.raises(InputError):
        load_json("[" * 100_000 + "]" * 100_000)


# null in a PATCH, and the project-wide NOT NULL check ----------------------------------


def test_none_in_a_not_null_column_is_refused_naming_it(tree) -> None:
    task = make_task(tree.city, tree.county_a)
    task.description = None  # type: ignore[assignment]
    with pytest.raises(InputError) as caught:
        task.save()
    assert [p.where for p in caught.value.problems] == ["description"]


@pytest.mark.parametrize("field", ["points", "rule", "rule_text"])
def test_item_patch_refuses_null_where_the_item_needs_a_value(
    tree, personas, scheme, field: str
) -> None:
    r = patch(
        logged_in("prov_office"), "/api/evaluation/schemes/t-2017/items/solved", {field: None}
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["where"] == field


def test_item_patch_null_target_removes_the_default(tree, personas, scheme) -> None:
    r = patch(
        logged_in("prov_office"), "/api/evaluation/schemes/t-2017/items/solved", {"target": None}
    )
    assert r.status_code == 200
    assert SchemeItem.objects.get(scheme=scheme, code="solved").target is None


# However many problems -------------------------------------------------------------------


def test_an_error_renders_its_first_1000_problems_and_a_count() -> None:
    error = DubanError([Problem(f"line {n}", "has 3 fields, the header 4") for n in range(50_000)])
    body = json.dumps(error.as_json())
    assert len(body) < 120_000
    assert len(error.as_json()["errors"]) == 1001  # type: ignore[arg-type]
    assert error.as_json()["errors"][-1] == {"where": "", "message": "……另有 49000 处问题未列出"}  # type: ignore[index]
    assert error.total == 50_000 and len(error.problems) == 50_000


def test_one_over_the_limit_is_shown_not_counted() -> None:
    """A reader that kept 1,000 and added its own count line is rendered as it is."""
    problems = [Problem(f"line {n}", "bad") for n in range(1000)]
    error = DubanError([*problems, Problem("", "… and 41250 more problems")])
    assert error.shown()[-1].message == "… and 41250 more problems"
    assert len(error.shown()) == 1001


def test_a_problem_list_keeps_memory_for_the_first_problems_only() -> None:
    problems = ProblemList()
    for n in range(100_000):
        problems.append(Problem(f"line {n}", "bad"))
    assert len(problems) == 1000 and problems.omitted == 99_000
    error = DubanError(problems)
    assert error.total == 100_000
    assert error.shown()[-1].message == "……另有 99000 处问题未列出"
    small = ProblemList([Problem("a", "x"), Problem("b", "y")], limit=1)
    assert DubanError(small).shown() == [Problem("a", "x"), Problem("", "……另有 1 处问题未列出")]


def test_a_large_csv_of_bad_rows_answers_a_small_error(tree, personas) -> None:
    """Issue 10, item 12: the body was as large as the file, and more (72 MB for 17.5 MB)."""
    make_form(tree, expiry_days=0)
    rows = "".join(f"case.filed,201712,COUNTY-A,{n},extra\n" for n in range(40_000))
    data = ("indicator,period,unit,value\n" + rows).encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = logged_in("county_reporter").post(
        "/api/reporting/values/import", {"file": SimpleUploadedFile("bad.csv", data)}
    )
    assert r.status_code == 400
    assert len(r.content) < 250_000, len(r.content)
    assert len(r.json()["errors"]) == 1001
    assert "39000" in r.json()["errors"][-1]["message"]
