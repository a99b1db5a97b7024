"""Properties of the organisation tree files (CSV and YAML): whatever the file, an import either
succeeds or is refused with `TreeImportError` in the user's language naming its line, never
another exception; a refusal leaves the database as it was; an exported tree imports back
unchanged. Bounded, derandomised examples (the same on every run)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from duban.audit.models import AuditEntry, AuditHead
from duban.orgs import treefile
from duban.orgs.models import Kind, Level, Line, OrgUnit, UnitMove
from duban.orgs.policy import SYSTEM
from duban.testing import make_user

PARSE = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
IMPORT = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CHINESE = re.compile("[\u4e00-\u9fff]")
PLACE = re.compile(r"^(line \d+|file|units|format|parent|)$")

CODES = ["PROV", "CITY", "COUNTY-A", "COUNTY-B", "N1", "N2", "N3", "bad code", "", "X" * 40]
cells = {
    "code": st.sampled_from(CODES),
    "parent": st.sampled_from(CODES),
    "name_zh": st.one_of(
        st.sampled_from(["新县局", "甲\x05", "=HYPERLINK(1)", "'=1", ""]), st.text(max_size=8)
    ),
    "name_en": st.text(max_size=8),
    "level": st.one_of(st.sampled_from(sorted(Level.values)), st.text(max_size=4)),
    "kind": st.one_of(st.sampled_from(sorted(Kind.values)), st.text(max_size=4)),
    "sort_order": st.one_of(st.sampled_from(["", "1", "-3", "1.5", "9" * 25, "x"]), st.integers()),
    "line": st.one_of(st.sampled_from(["", *sorted(Line.values), "nope"]), st.text(max_size=3)),
}
rows = st.lists(st.fixed_dictionaries({}, optional=cells), max_size=5)


@st.composite
def csv_trees(draw: st.DrawFn) -> bytes:
    """A header of the known columns (some dropped, some unknown added), rows of plausible
    or random cells, in one of the encodings Excel writes, or cut short."""
    columns = draw(st.lists(st.sampled_from([*treefile.COLUMNS, "extra", " code "]), max_size=9))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in draw(rows):
        writer.writerow(
            [row.get(c.strip(), "") for c in columns]
            + draw(st.lists(st.text(max_size=3), max_size=1))
        )
    text = out.getvalue()
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))] + draw(
            st.sampled_from(['"', "\x00", "\r", ""])
        )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"]))
    return text.encode(encoding, errors="replace")


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
YAML_SNIPPETS = [
    "units:\n- &a {code: N1, name_zh: 甲, level: city, kind: territorial}\n- *a\n",
    "units:\n- {code: 2020-02-31, name_zh: 甲, level: city, kind: territorial}\n",
    "units:\n- {[1]: 2}\n",
    "units: !!binary aGVsbG8=\n",
    "units:\n- {code: N1, name_zh: !!python/object:os.system ls, level: city, kind: territorial}\n",
    "units: [" * 50,
    "%YAML 1.1\n---\nunits: []\n",
    "units:\n- {code: N1}\n  bad: indent\n",
]


@st.composite
def yaml_trees(draw: st.DrawFn) -> str:
    """A `units` list of mappings of plausible and random values, random documents, and
    snippets YAML itself refuses (aliases, impossible dates, unhashable keys, unsafe tags)."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(YAML_SNIPPETS))
    if kind == 1:
        return yaml.safe_dump(draw(yaml_values), allow_unicode=True)
    units = draw(
        st.lists(st.one_of(st.fixed_dictionaries({}, optional=cells), yaml_values), max_size=5)
    )
    return yaml.safe_dump({"units": units}, allow_unicode=draw(st.booleans()))


def chain(depth: int, width: int) -> str:
    """A CSV tree of `depth` units, each the parent of the next, codes `width` long."""
    codes = [f"D{i:02d}".ljust(width, "x") for i in range(depth)]
    lines = ["code,parent,name_zh,level,kind"]
    lines += [
        f"{c},{codes[i - 1] if i else 'CITY'},层,county,territorial" for i, c in enumerate(codes)
    ]
    return "\n".join(lines) + "\n"


deep_trees = st.builds(chain, st.integers(1, 25), st.integers(3, 32)).map(
    lambda t: (t.encode(), "csv")
)


def refused_or_fine(fn: Any) -> object:
    try:
        return fn()
    except treefile.TreeImportError as exc:
        assert exc.problems
        for problem in exc.problems:  # in the user's language, naming its line
            assert PLACE.match(problem.where), problem
            assert CHINESE.search(problem.message), problem
        return exc


@given(st.one_of(csv_trees(), st.binary(max_size=100)))
@PARSE
# A field past the csv module's limit raised csv.Error (a 500).
@example(b'code,parent,name_zh,level,kind\nN1,,"' + b"x" * 140_000 + b'",city,territorial\n')
def test_any_csv_tree_parses_or_is_refused_by_line(db: None, data: bytes) -> None:
    refused_or_fine(lambda: treefile.parse(data, "csv"))


@given(st.one_of(yaml_trees(), st.binary(max_size=60).map(lambda b: b.decode("latin-1"))))
@PARSE
# An alias named one mapping twice: its line was popped once and a KeyError raised (a 500).
@example(YAML_SNIPPETS[0])
# A day that does not exist raised PyYAML's bare ValueError (a 500).
@example(YAML_SNIPPETS[1])
def test_any_yaml_tree_parses_or_is_refused_by_line(db: None, text: str) -> None:
    refused_or_fine(lambda: treefile.parse(text, "yaml"))


def full_state() -> tuple[object, ...]:
    return (
        sorted(
            OrgUnit.objects.values_list(
                "code", "path", "name_zh", "name_en", "level", "kind", "sort_order", "line"
            )
        ),
        UnitMove.objects.count(),
        AuditEntry.objects.count(),
        list(AuditHead.objects.values_list("last_hash", "count")),
    )


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def admin(tree: Any) -> Any:
    return make_user("tree_admin", tree.city, "system_admin")


@given(
    st.one_of(
        csv_trees().map(lambda b: (b, "csv")),
        yaml_trees().map(lambda t: (t, "yaml")),
        deep_trees,
    ),
    st.booleans(),
)
@IMPORT
# A control character reached the save and was refused naming no line.
@example(
    ("code,parent,name_zh,level,kind\nN1,CITY,甲\x05,county,territorial\n".encode(), "csv"), True
)
# A tree deeper than the path column holds was a DataError on PostgreSQL (a 500).
@example((chain(25, 32).encode(), "csv"), True)
def test_an_import_succeeds_or_changes_nothing(
    tree: Any, admin: Any, case: tuple[bytes | str, str], as_system: bool
) -> None:
    """On the shared tree, as the city's system administrator (who may not touch the
    province or the other city) or as the system."""
    data, fmt = case
    with rolled_back():
        before = full_state()
        result = refused_or_fine(
            lambda: treefile.import_tree(data, fmt, user=SYSTEM if as_system else admin)
        )
        if not isinstance(result, treefile.ImportSummary):
            assert full_state() == before, "a refused import changed the database"


def test_a_tree_too_deep_for_its_paths_is_refused_by_line(tree: Any) -> None:
    with pytest.raises(treefile.TreeImportError) as caught:
        treefile.import_tree(chain(25, 32), "csv", user=SYSTEM)
    wheres = {p.where for p in caught.value.problems}
    assert "line 19" in wheres and "line 18" not in wheres  # /PROV/CITY/ + 17 codes of 33 fit
    assert not OrgUnit.objects.filter(code__startswith="D0").exists()


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["新县", "=SUM(1)", "'+x", "乙 县", 'a,b"c']), st.integers(-5, 5)
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["csv", "yaml"]),
)
@IMPORT
@example([("=SUM(1)", 0)], "csv")  # a formula-like name keeps its text both ways
def test_an_exported_tree_imports_back_unchanged(
    tree: Any, names: list[tuple[str, int]], fmt: str
) -> None:
    with rolled_back():
        for i, (name, order) in enumerate(names):
            OrgUnit.objects.create(
                code=f"N{i}",
                parent=tree.city,
                name_zh=name,
                level="county",
                kind="territorial",
                sort_order=order,
            )
        units = OrgUnit.objects.all()
        data = treefile.to_csv(units) if fmt == "csv" else treefile.to_yaml(units)
        before = full_state()
        summary = treefile.import_tree(data, fmt, user=SYSTEM)
        assert (summary.created, summary.updated, summary.moved) == (0, 0, 0)
        assert full_state() == before
