from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from duban.audit.models import AuditEntry
from duban.orgs import treefile
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.orgs.treefile import TreeImportError
from duban.testing import PASSWORD, make_user

GOOD_CSV = """code,parent,name_zh,name_en,level,kind,sort_order
ROOT,,测试市局,Test city,city,territorial,0
C1,ROOT,一县,County 1,county,territorial,1
C2,ROOT,二县,County 2,county,territorial,2
S1,C1,一所,Station 1,station,territorial,1
"""


def state() -> tuple:
    return (
        sorted(OrgUnit.objects.values_list("code", "path", "name_zh", "level", "kind")),
        AuditEntry.objects.count(),
    )


def test_csv_import_creates_parents_before_children(db) -> None:
    rows = GOOD_CSV.splitlines()
    shuffled = "\n".join([rows[0], rows[4], rows[2], rows[1], rows[3]])
    summary = treefile.import_tree(shuffled, "csv", user=SYSTEM)
    assert summary.created == 4
    assert OrgUnit.objects.get(code="S1").path == "/ROOT/C1/S1/"


def test_round_trip_csv_and_yaml(db) -> None:
    treefile.import_tree(GOOD_CSV, "csv", user=SYSTEM)
    csv_out = treefile.to_csv(OrgUnit.objects.all())
    yaml_out = treefile.to_yaml(OrgUnit.objects.all())
    assert csv_out.splitlines()[1] == "ROOT,,测试市局,Test city,city,territorial,0,"
    before = state()
    again = treefile.import_tree(yaml_out, "yaml", user=SYSTEM)
    assert (again.created, again.updated, again.moved, again.unchanged) == (0, 0, 0, 4)
    assert state() == before


def test_reimport_moves_and_renames(db) -> None:
    treefile.import_tree(GOOD_CSV, "csv", user=SYSTEM)
    changed = GOOD_CSV.replace("S1,C1,一所", "S1,C2,一所改")
    summary = treefile.import_tree(changed, "csv", user=SYSTEM)
    assert (summary.moved, summary.updated) == (1, 1)
    s1 = OrgUnit.objects.get(code="S1")
    assert (s1.path, s1.name_zh) == ("/ROOT/C2/S1/", "一所改")
    assert s1.moves.count() == 1


BAD_CSV = """code,parent,name_zh,name_en,level,kind,sort_order
ROOT,,测试市局,Test city,city,territorial,0
A,B,甲,A,county,territorial,1
B,A,乙,B,county,territorial,2
C1,ROOT,一县,County 1,county,territorial,3
C1,ROOT,一县重复,County 1 again,county,territorial,4
X,NOPE,未知,Unknown parent,county,territorial,5
Y,ROOT,,No name,planet,territorial,x
"""


def test_bad_file_reports_every_row_and_imports_nothing(db) -> None:
    treefile.import_tree(
        "code,parent,name_zh,name_en,level,kind\nKEEP,,保留,Keep,city,territorial\n",
        "csv",
        user=SYSTEM,
    )
    before = state()
    with pytest.raises(TreeImportError) as exc:
        treefile.import_tree(BAD_CSV, "csv", user=SYSTEM)
    messages = [str(p) for p in exc.value.problems]
    assert any(m.startswith("line 3:") and "形成循环" in m for m in messages)
    assert any(m.startswith("line 4:") and "形成循环" in m for m in messages)
    assert any(
        m.startswith("line 6:") and "代码 'C1' 重复（首次出现在第 5 行）" in m for m in messages
    )
    assert any(m.startswith("line 7:") and "上级单位 'NOPE' 不存在" in m for m in messages)
    assert any(m.startswith("line 8:") and "name_zh 为空" in m for m in messages)
    assert any(m.startswith("line 8:") and "层级 'planet'" in m for m in messages)
    assert any(m.startswith("line 8:") and "sort_order 'x' 不是整数" in m for m in messages)
    assert state() == before


def test_yaml_errors_carry_line_numbers(db) -> None:
    text = "units:\n  - code: R\n    name_zh: 市\n    level: city\n    kind: territorial\n  - code: K\n    parent: MISSING\n    name_zh: 县\n    level: county\n    kind: territorial\n"
    with pytest.raises(TreeImportError) as exc:
        treefile.import_tree(text, "yaml", user=SYSTEM)
    assert [str(p) for p in exc.value.problems] == ["line 6: 上级单位 'MISSING' 不存在"]
    assert not OrgUnit.objects.exists()


def test_broken_yaml_and_unknown_format(db) -> None:
    with pytest.raises(TreeImportError, match="line 3: 不是有效的 YAML"):
        treefile.import_tree("units:\n  - [unclosed\n", "yaml", user=SYSTEM)
    with pytest.raises(TreeImportError, match="format"):
        treefile.import_tree(GOOD_CSV, "xls", user=SYSTEM)


def test_gb18030_csv_from_excel_is_read(db) -> None:
    treefile.import_tree(GOOD_CSV.encode("gb18030"), "csv", user=SYSTEM)
    assert OrgUnit.objects.get(code="C1").name_zh == "一县"


def test_import_page_lists_problems_and_changes_nothing(tree) -> None:
    make_user("sys", tree.city, "system_admin")
    client = Client()
    client.login(username="sys", password=PASSWORD)
    before = state()
    bad = "code,parent,name_zh,name_en,level,kind\nNEW,NOPE,新,New,county,territorial\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/orgs/import/", {"file": SimpleUploadedFile("t.csv", bad.encode()), "format": "csv"}
    )
    assert response.status_code == 200
    assert "第 2 行" in response.content.decode() and "NOPE" in response.content.decode()
    assert state() == before


def test_import_outside_ones_subtree_is_refused_per_row(tree) -> None:
    sysadmin = make_user("sys", tree.county_a, "system_admin")
    text = "code,parent,name_zh,name_en,level,kind\nNEWB,COUNTY-B,新所,New,station,territorial\n"
    before = state()
    with pytest.raises(TreeImportError) as exc:
        treefile.import_tree(text, "csv", user=sysadmin)
    assert str(exc.value.problems[0]).startswith("line 2:")
    assert state() == before


def test_api_import_answers_400_with_rows(tree) -> None:
    make_user("sys", tree.city, "system_admin")
    client = Client()
    client.login(username="sys", password=PASSWORD)
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = "code,parent,name_zh,name_en,level,kind\nN1,CITY,新,New,county,territorial\nN1,CITY,新,New,county,territorial\n"
    response = client.post(
        "/api/orgs/tree/import",
        {"file": SimpleUploadedFile("t.csv", bad.encode()), "format": "csv"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == [{"where": "line 3", "message": "代码 'N1' 重复（首次出现在第 2 行）"}]


def test_tree_command_imports_and_exports(db, tmp_path, capsys) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "tree.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    call_command("tree", "import", str(path))
    assert "4 created" in capsys.readouterr().out
    call_command("tree", "export", "--under", "C1")
    assert capsys.readouterr().out.splitlines()[1:] == [
        "C1,ROOT,一县,County 1,county,territorial,1,",
        "S1,C1,一所,Station 1,station,territorial,1,",
    ]
    path.write_text(BAD_CSV, encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("tree", "import", str(path))


def test_grant_command_creates_the_first_admins(db, monkeypatch) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from duban.orgs.models import Membership

    treefile.import_tree(GOOD_CSV, "csv", user=SYSTEM)
    monkeypatch.setenv("DUBAN_PASSWORD", "A-long-secret-2017")
    call_command("grant", "sec", "ROOT", "security_admin", "--create")
    assert Membership.objects.get(user__username="sec").role == "security_admin"
    with pytest.raises(CommandError, match="职责分离"):
        call_command("grant", "sec", "ROOT", "audit_admin")


def test_a_yaml_tree_nested_too_deeply_is_refused(db) -> None:
    """[[[[… in YAML (JSON is YAML) was PyYAML's RecursionError: a 500."""
    with pytest.raises(TreeImportError) as caught:
        treefile.parse("units: " + "[" * 5000 + "]" * 5000, "yaml")
    assert caught.value.problems[0].where == "file"


def test_formula_names_are_text_in_the_csv_and_read_back_as_typed(db) -> None:
    """A unit named =HYPERLINK(…) came out raw in /api/orgs/tree.csv."""
    treefile.import_tree(GOOD_CSV, "csv", user=SYSTEM)
    OrgUnit.objects.filter(code="C1").update(name_zh='=HYPERLINK("http://x","y")')
    OrgUnit.objects.filter(code="C2").update(name_zh="-1\x05")
    text = treefile.to_csv(OrgUnit.objects.all())
    assert 'C1,ROOT,"\'=HYPERLINK(""http://x"",""y"")"' in text
    assert "C2,ROOT,'-1," in text
    assert "\x05" not in text
    treefile.import_tree(text, "csv", user=SYSTEM)
    assert OrgUnit.objects.get(code="C1").name_zh == '=HYPERLINK("http://x","y")'
    assert OrgUnit.objects.get(code="C2").name_zh == "-1"


def test_a_tree_file_in_gb18030_imports(db) -> None:
    text = "code,parent,name_zh,name_en,level,kind\nWZ,,王庄市局,Wangzhuang,city,territorial\n"
    treefile.import_tree(text.encode("gb18030"), "csv", user=SYSTEM)
    assert OrgUnit.objects.get(code="WZ").name_zh == "王庄市局"


def test_a_tree_file_in_neither_encoding_or_without_rows_is_refused(db) -> None:
    with pytest.raises(TreeImportError, match="第 2 行"):
        treefile.import_tree(
            b"code,parent,name_zh,level,kind\nX,,\xff,city,territorial\n", "csv", user=SYSTEM
        )
    with pytest.raises(TreeImportError, match="只有表头"):
        treefile.import_tree(b"code,parent,name_zh,name_en,level,kind\n", "csv", user=SYSTEM)
    with (
        pytest.raises(TreeImportError, match="header and no rows"),
        translation.override("en"),
    ):
        treefile.import_tree("units: []\n", "yaml", user=SYSTEM)
    assert not OrgUnit.objects.exists()
