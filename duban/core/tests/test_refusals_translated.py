"""Every refusal a user can read is marked for translation.

The check parses every module under duban/ with `ast` and finds each construction of a
user-facing error (`DubanError` and its subclasses, `Problem`, Django's `ValidationError` and
`PermissionDenied`, ninja's `HttpError`) and each message handed to a page (`add_error`,
`messages.error/warning/…`, a reader's `Problems.add`), and fails when its message is a bare
string literal, an f-string, or a literal formatted with `%` or `.format()` instead of a
gettext call. A message held in a variable passes: the name is checked where it was built.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the duban package

BASES = {"DubanError", "Problem", "ValidationError", "PermissionDenied", "HttpError"}
# Which positional argument holds the message; the keyword names it may also take.
MESSAGE_ARG = {"Problem": 1, "HttpError": 1}
MESSAGE_KEYWORDS = {"message", "problems", "msg", "detail"}
# Django's messages that reach a page; methods that collect a problem for one (a form's
# `add_error`, reporting's `Problems.add`, the engine's `Reader.problem`): message second.
MESSAGES = {"error", "warning", "success", "info"}
COLLECTORS = {"add_error", "add", "problem"}
GETTEXT = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "gettext_noop",
    "_lazy",
    "format_lazy",
}

# `duban audit verify` is a report for the audit administrator on the command line, not a
# refusal; its findings are one English text (translating them is a later step, whole).
EXCLUDED = {"audit/verify.py"}

# Messages no user reads, each with why: (file, line text fragment).
ALLOWED: dict[tuple[str, str], str] = {
    ("reporting/values.py", "figures are put outside the forms by the system actor only"):
        "a programming error: only demo loaders and fixtures, as the system actor, call it",
    ("reporting/values.py", "figures are removed outside the forms by the system actor only"):
        "a programming error: only demo loaders and fixtures, as the system actor, call it",
}  # fmt: skip


def _modules() -> list[Path]:
    return sorted(
        p
        for p in ROOT.rglob("*.py")
        if "tests" not in p.relative_to(ROOT).parts
        and "migrations" not in p.relative_to(ROOT).parts
        and str(p.relative_to(ROOT)) not in EXCLUDED
    )


def _error_names(trees: dict[Path, ast.Module]) -> set[str]:
    """The base names and every class under duban/ that derives from one of them."""
    names = set(BASES)
    grown = True
    while grown:
        grown = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in names
                    and any(_name(b) in names for b in node.bases)
                ):
                    names.add(node.name)
                    grown = True
    return names


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _untranslated(node: ast.expr) -> bool:
    """A literal that reaches the user as it is written."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value.strip() != ""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):  # "..." % x, "..." + x
        return _untranslated(node.left) or _untranslated(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):  # "…".format()
        return node.func.attr == "format" and _untranslated(node.func.value)
    if isinstance(node, ast.IfExp):
        return _untranslated(node.body) or _untranslated(node.orelse)
    if isinstance(node, ast.List):  # DubanError([Problem(...)]) is checked at the Problem
        return False
    return False


def _message_args(call: ast.Call, errors: set[str]) -> list[ast.expr]:
    name = _name(call.func)
    found: list[ast.expr] = []
    if name in errors:
        index = MESSAGE_ARG.get(name, 0)
        if len(call.args) > index:
            found.append(call.args[index])
        found += [k.value for k in call.keywords if k.arg in MESSAGE_KEYWORDS]
    elif isinstance(call.func, ast.Attribute) and len(call.args) >= 2:
        method = call.func.attr
        if method in COLLECTORS or (method in MESSAGES and _name(call.func.value) == "messages"):
            found.append(call.args[1])
    return found


def untranslated_refusals() -> list[str]:
    trees = {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in _modules()}
    errors = _error_names(trees)
    offenders = []
    for path, tree in trees.items():
        rel = str(path.relative_to(ROOT))
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for arg in _message_args(node, errors):
                if not _untranslated(arg):
                    continue
                text = lines[arg.lineno - 1].strip()
                if any(f == rel and frag in text for f, frag in ALLOWED):
                    continue
                offenders.append(f"duban/{rel}:{arg.lineno}: {text}")
    return offenders


def test_every_refusal_is_marked_for_translation() -> None:
    offenders = untranslated_refusals()
    assert not offenders, (
        f"{len(offenders)} refusal(s) not marked for translation (use gettext with "
        "%(name)s placeholders):\n" + "\n".join(offenders)
    )


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ('raise DubanError("no")', True),
        ('raise DubanError(f"no {x}")', True),
        ('Problem("line 1", "no %s" % x)', True),
        ('Problem("line 1", "no {}".format(x))', True),
        ('raise ValidationError("no")', True),
        ('raise HttpError(403, "no")', True),
        ('form.add_error("name", "no")', True),
        ('messages.error(request, "no")', True),
        ('raise DubanError(_("no %(x)s") % {"x": x})', False),
        ('Problem("line 1", gettext("no"))', False),
        ("raise DubanError(message)", False),
        ('raise TypeError("a developer error")', False),
        ('seen.add("x")', False),
    ],
)
def test_the_check_tells_literals_from_gettext(source: str, bad: bool) -> None:
    call = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call))
    args = _message_args(call, set(BASES))
    assert any(_untranslated(a) for a in args) is bad


def _tree_format() -> None:
    from duban.orgs import treefile

    treefile.parse("code\n", "toml")


def _values_column() -> None:
    from duban.evaluation.engine.files import parse_values
    from duban.evaluation.tests import make_item, make_scheme

    parse_values("indicator,period,unit,value,colour\n", make_scheme([make_item()]))


def _json_shape() -> None:
    from duban.reporting import readers

    readers.read_dhis2_json(b"[]")


@pytest.mark.parametrize(
    ("refuse", "chinese", "english"),
    [
        (
            _tree_format,
            "未知的格式 'toml'：请使用 csv 或 yaml",
            "unknown format 'toml': use csv or yaml",
        ),
        (_values_column, "未知的列 'colour'", "unknown column 'colour'"),
        (_json_shape, "应为 dataValueSet", "expected a dataValueSet"),
    ],
    ids=["tree file", "values file", "DHIS2 JSON"],
)
def test_refusals_are_chinese_by_default_and_english_in_english(
    refuse: Callable[[], None], chinese: str, english: str
) -> None:
    from django.utils import translation

    from duban.errors import DubanError

    with pytest.raises(DubanError) as caught:
        refuse()
    assert chinese in str(caught.value)
    with translation.override("en"), pytest.raises(DubanError) as caught:
        refuse()
    assert english in str(caught.value)
