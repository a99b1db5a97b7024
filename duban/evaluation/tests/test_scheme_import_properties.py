"""Properties of the scheme files (YAML and the xlsx workbook, docs/scheme-format.md) and the
engine's values files (CSV): whatever the file, it is read or refused with the product's own
error in the user's language, never another exception, and a refused import leaves the
database as it was. The example scheme of the docs is the seed: each example changes a few of
its values (or cells) to random ones. Bounded, derandomised examples (the same on every run)."""

from __future__ import annotations

import copy
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
from openpyxl import load_workbook

from duban.audit.models import AuditEntry, AuditHead
from duban.errors import DubanError
from duban.evaluation import engine, services, sheets
from duban.evaluation.engine.files import SchemeFileError, ValuesFileError, parse_values
from duban.evaluation.models import Scheme, SchemeItem
from duban.evaluation.tests.test_builder import _block
from duban.orgs.policy import SYSTEM
from duban.testing import make_unit

PARSE = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
IMPORT = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CHINESE = re.compile("[\u4e00-\u9fff]")
EXAMPLE = _block("example-scheme")
SEED = yaml.safe_load(EXAMPLE)


def refused_or_fine(fn: Any) -> object:
    """A result, or the product's refusal: every problem in Chinese."""
    try:
        return fn()
    except DubanError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert isinstance(problem.where, str)
            assert CHINESE.search(problem.message), problem
        return exc


# Random values put at random places of the example scheme -------------------------------------

TOKENS = ["", "x", "0", "-1", "1e999999999", "NaN", ".inf", "2020-02-31", "2017-13-01", "城区"]
TOKENS += [
    "attainment",
    "steps",
    "higher",
    "lower",
    "county",
    "station",
    "lst",
    "yz",
    "[",
    "{a: 1}",
]
leaf_values = st.one_of(
    st.none(),
    st.sampled_from(["c" * 65, "名" * 201, 10**20, "0.1234567"]),  # past their columns
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(TOKENS),
    st.text(max_size=6),
    st.lists(st.sampled_from(TOKENS), max_size=2),
    st.dictionaries(
        st.sampled_from(["kind", "at_least", "points", "zh", "units"]),
        st.sampled_from(TOKENS),
        max_size=2,
    ),
)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a parsed document, containers included."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from paths(value, (*prefix, i))


SEED_PATHS = [p for p in paths(SEED) if p]


def put(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    if value is DELETE:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


DELETE = object()


@st.composite
def mutated_schemes(draw: st.DrawFn) -> str:
    """The example scheme with one to three places replaced, deleted or given a new key."""
    doc = copy.deepcopy(SEED)
    for path in draw(st.lists(st.sampled_from(SEED_PATHS), min_size=1, max_size=3, unique=True)):
        try:
            put(doc, path, draw(st.one_of(leaf_values, st.just(DELETE))))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this place
    if draw(st.integers(0, 5)) == 0:
        doc["surprise"] = draw(leaf_values)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    for token in draw(
        st.lists(st.sampled_from(["2020-02-31", "&a x", "*a", "!!binary x", "\t"]), max_size=1)
    ):
        at = draw(st.integers(0, len(text)))  # raw YAML spliced in
        text = text[:at] + token + text[at:]
    return text


@given(st.one_of(mutated_schemes(), st.text(max_size=80)))
@settings(PARSE, max_examples=40)
# A day that does not exist raised PyYAML's bare ValueError (a 500).
@example(EXAMPLE.replace("year: 2017", "year: 2017\nstart: 2017-02-31", 1))
def test_any_scheme_text_parses_or_is_refused(db: None, text: str) -> None:
    result = refused_or_fine(lambda: engine.parse_scheme(text))
    if isinstance(result, DubanError):
        assert isinstance(result, SchemeFileError)


# Values files ---------------------------------------------------------------------------------

SCHEME = engine.parse_scheme(EXAMPLE)
INDICATORS = [*sorted({k[0] for k in SCHEME.value_keys})[:6], "nope", ""]
UNITS = [*[u.code for u in SCHEME.units][:4], "zz", ""]
values_cells = st.one_of(
    st.sampled_from(
        INDICATORS
        + UNITS
        + ["2017", "201712", "2017Q4", "2018", "x", "1.5", "NaN", "1e9999", "", "A"]
    ),
    st.text(max_size=5),
)


@st.composite
def values_files(draw: st.DrawFn) -> str:
    columns = draw(
        st.one_of(
            st.just(["indicator", "period", "unit", "value"]),
            st.lists(
                st.sampled_from(
                    ["indicator", "period", "unit", "value", "class", "reason", "x", ""]
                ),
                max_size=6,
            ),
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for _ in range(draw(st.integers(0, 5))):
        writer.writerow(
            draw(
                st.lists(values_cells, min_size=max(len(columns) - 1, 0), max_size=len(columns) + 1)
            )
        )
    text = out.getvalue()
    if draw(st.booleans()):
        text += draw(st.sampled_from(['"open,', "\x00", '"' + "x" * 140_000 + '"\n']))
    return text


@given(values_files())
@PARSE
# A field past the csv module's limit raised csv.Error (a 500).
@example('indicator,period,unit,value\n"' + "x" * 140_000 + '"\n')
def test_any_values_file_reads_or_is_refused(db: None, text: str) -> None:
    result = refused_or_fine(lambda: parse_values(text, SCHEME))
    if isinstance(result, DubanError):
        assert isinstance(result, ValuesFileError)


# Through the database: a refused import changes nothing ---------------------------------------


def full_state() -> tuple[object, ...]:
    from django.apps import apps

    counts = tuple(
        (m._meta.label, m._default_manager.count())
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in ("evaluation", "audit", "orgs")
    )
    return (
        counts,
        sorted(Scheme.objects.values_list("code", "status", "name_zh")),
        SchemeItem.objects.count(),
        AuditEntry.objects.count(),
        list(AuditHead.objects.values_list("last_hash", "count")),
    )


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def keeps_its_promise(fn: Any) -> object:
    with rolled_back():
        before = full_state()
        result = refused_or_fine(fn)
        if isinstance(result, DubanError):
            assert full_state() == before, "a refused import changed the database"
    return result


def changed(path: tuple[Any, ...], value: Any) -> str:
    doc = copy.deepcopy(SEED)
    put(doc, path, value)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


# Texts longer and numbers larger than their columns were DataErrors on PostgreSQL (a 500).
TOO_BIG = [
    (("code",), "c" * 65, "code"),
    (("name",), "名" * 201, "name.zh"),
    (("items", 0, "name"), "名" * 201, "items[0].name.zh"),
    (("items", 0, "target"), 10**20, "items[0].target"),
    (("groups", 0, "code"), "g" * 65, "groups[0].code"),
]


@given(mutated_schemes())
@IMPORT
@example(changed(*TOO_BIG[0][:2]))
@example(changed(*TOO_BIG[3][:2]))
def test_a_scheme_import_succeeds_or_changes_nothing(units: None, text: str) -> None:
    keeps_its_promise(lambda: services.import_scheme_yaml(text, user=SYSTEM))


@pytest.fixture
def units(db: None) -> None:
    """The example scheme's units (as test_builder's `yz_units`)."""
    root = make_unit("yz", None, level="city")
    for code in ("lst", "ll", "qy", "da", "dx", "jh"):
        make_unit(code, root, level="county")
    for code in ("jjzd", "xzzd", "zazd"):
        make_unit(code, root, level="city", kind="division")


@pytest.mark.parametrize(("path", "value", "field"), TOO_BIG)
def test_what_its_columns_cannot_hold_is_refused_by_field(
    units: None, path: tuple[Any, ...], value: Any, field: str
) -> None:
    text = changed(path, value)
    if path == ("groups", 0, "code"):  # the items name their groups by code
        text = text.replace(f"- {SEED['groups'][0]['code']}\n", f"- {value}\n")
    before = full_state()
    with pytest.raises(DubanError) as caught:
        services.import_scheme_yaml(text, user=SYSTEM)
    assert [p.where for p in caught.value.problems] == [field]
    assert CHINESE.search(caught.value.problems[0].message)
    assert full_state() == before


@pytest.fixture
def workbook(units: None) -> bytes:
    """The example scheme as the workbook an office downloads, the scheme itself undone."""
    with rolled_back():
        return sheets.export_scheme_xlsx(services.import_scheme_yaml(EXAMPLE, user=SYSTEM))


SHEETS = {"scheme": 8, "groups": 7, "categories": 4, "items": 16, "grades": 5}
sheet_cells = st.one_of(
    st.none(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.sampled_from(
        [
            "x",
            "²",
            "13",
            "0",
            "bands>=a:b",
            "weights=A:x|B",
            "k=v;;",
            "at_most x",
            "=1+1",
            "lst; x=1",
        ]
    ),
    st.text(max_size=5),
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(SHEETS)), st.integers(1, 14), st.integers(1, 16), sheet_cells
        ),
        min_size=1,
        max_size=4,
    )
)
@IMPORT
# A month, day or year that is no number raised int()'s ValueError (a 500).
@example([("scheme", 6, 2, "x")])
@example([("scheme", 4, 2, "²")])
@example([("scheme", 8, 2, "level=²")])
def test_a_workbook_import_succeeds_or_changes_nothing(
    units: None,
    workbook: bytes,
    changes: list[tuple[str, int, int, object]],
) -> None:
    book = load_workbook(io.BytesIO(workbook))
    for sheet, row, column, value in changes:
        book[sheet].cell(row=row, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    keeps_its_promise(lambda: sheets.import_scheme_xlsx(out.getvalue(), user=SYSTEM))
