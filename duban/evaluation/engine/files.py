"""Scheme files (YAML) and values files (CSV), without a database.

Loading is all or nothing: every problem is collected with its path (YAML) or
its line and column (CSV), and one error listing all of them is raised. No
partial scheme is ever returned, and an unknown code is reported, never
guessed. ``docs/scheme-format.md`` documents both formats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from duban.errors import DubanError, Problem
from duban.evaluation.engine import formulas
from duban.evaluation.engine.compute import ValueKey
from duban.evaluation.engine.explain import Text
from duban.evaluation.engine.model import (
    DEFAULT_GRADES,
    Category,
    Direction,
    Grade,
    Item,
    PeerGroup,
    Quota,
    Scheme,
    SchemeIndicator,
    Sequence,
    Unit,
    validate_scheme,
)
from duban.evaluation.engine.params import Reader
from duban.evaluation.engine.rules import read_rule, rule_to_dict
from duban.periods import MAX_YEAR, MIN_YEAR, StatisticalCalendar, parse_period
from duban.spreadsheets import gettext_noop, safe_cell, unguard_text
from duban.text import UndecodableText, decode_text, gettext, ngettext
from duban.text import gettext as _
from duban.yaml_dates import existing_date


class _FileError(DubanError, ValueError):
    """A rejected file: ``problems`` lists every problem found, each with where it is."""

    what = "file"

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.source = source
        super().__init__(problems)

    def __str__(self) -> str:
        name = f"{gettext(self.what)} {self.source}" if self.source else gettext(self.what)
        count = len(self.problems)
        summary = ngettext("%(n)d problem", "%(n)d problems", count) % {"n": count}
        lines = [f"{name}: {summary}"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


class SchemeFileError(_FileError):
    """The scheme file cannot be used; nothing was loaded."""

    what = gettext_noop("scheme file")


class ValuesFileError(_FileError):
    """The values file cannot be used; nothing was loaded."""

    what = gettext_noop("values file")


# ---------------------------------------------------------------- YAML in


class _Loader(yaml.SafeLoader):
    """Safe YAML whose decimals stay exact: ``0.1`` is Decimal('0.1'), never a float."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.nodes.Node) -> object:
    assert isinstance(node, yaml.ScalarNode)
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return number if number.is_finite() else text


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", existing_date)


def _unit(r: Reader) -> Unit:
    unit = Unit(
        r.string("code"), r.text("name"), r.string("level"), r.string("kind", required=False)
    )
    r.done()
    return unit


def _sequence(r: Reader) -> Sequence:
    sequence = Sequence(r.string("code"), r.text("name"), r.strings("members"))
    r.done()
    return sequence


def _group(r: Reader) -> PeerGroup:
    code, name, members = r.string("code"), r.text("name"), r.strings("members")
    sequences = tuple(
        _sequence(Reader(el, where, r.problems))
        for el, where in r.items("sequences", required=False)
    )
    r.done()
    return PeerGroup(code, name, members, sequences)


def _category(r: Reader) -> Category:
    category = Category(r.string("code"), r.text("name"), r.number("points", minimum=Decimal(0)))
    r.done()
    return category


def _target(r: Reader) -> tuple[Decimal | None, tuple[tuple[str, Decimal], ...]]:
    """``target: 100`` or ``target: {default: 100, units: {lsj: 150}}``."""
    if not r.has("target") or r.raw("target") is None:
        return None, ()
    if not isinstance(r.raw("target"), Mapping):
        return r.number("target", minimum=Decimal(0)), ()
    sub = r.sub("target")
    default = sub.optional_number("default", minimum=Decimal(0))
    per_unit: tuple[tuple[str, Decimal], ...] = ()
    if sub.has("units"):
        per_unit = sub.number_map("units", minimum=Decimal(0))
    sub.done()
    return default, per_unit


def _item(r: Reader) -> Item:
    code = r.string("code")
    category = r.string("category")
    indicator = r.string("indicator", required=False, default=code)
    name = r.text("name")
    points = r.number("points", minimum=Decimal(0))
    rule = read_rule(r.sub("rule"), code)
    direction = r.choice("direction", ("higher", "lower"), default="higher")
    cumulative = r.boolean("cumulative", default=False)
    target, per_unit = _target(r)
    rule_text = r.string("rule_text", required=False)
    not_ranked = r.strings("not_ranked_levels")
    levels = r.strings("levels")
    groups = r.strings("groups")
    r.done()
    return Item(
        code=code,
        category=category,
        indicator=indicator,
        name=name,
        points=points,
        rule=rule,
        direction=Direction(direction),
        cumulative=cumulative,
        target=target,
        unit_targets=per_unit,
        rule_text=rule_text,
        not_ranked_levels=not_ranked,
        levels=levels,
        groups=groups,
    )


def _indicator(r: Reader) -> SchemeIndicator:
    """``{code, name, formula?, decimals?, total?}``: computed with a formula, else a base
    indicator declared for its ``total`` (or as a formula's input)."""
    code, name = r.string("code"), r.text("name")
    formula = None
    text = r.string("formula", required=False)
    if text:
        try:
            formula = formulas.parse(text)
        except ValueError as error:
            r.problem(
                "formula",
                _("computed indicator %(code)s: %(reason)s") % {"code": code, "reason": error},
            )
    decimals = None
    if r.has("decimals"):
        decimals = r.integer("decimals", minimum=0)
        if decimals > 10:
            r.problem("decimals", _("must be at most %(maximum)s") % {"maximum": 10})
    total = r.choice("total", ("sum", "none"), default="") if r.has("total") else None
    r.done()
    return SchemeIndicator(code, name, formula, decimals, total or None)


def _grade(r: Reader) -> Grade:
    code, name = r.string("code"), r.text("name")
    minimum = r.number("min", minimum=Decimal(0))
    quota: Quota | None = None
    if r.has("quota") and r.raw("quota") is not None:
        q = r.sub("quota")
        kinds = [kind for kind in ("at_most", "at_least") if q.has(f"{kind}_percent")]
        if len(kinds) != 1:
            q.problem("", _("give exactly one of at_most_percent or at_least_percent"))
        else:
            percent = q.number(f"{kinds[0]}_percent", positive=True, maximum=Decimal(100))
            quota = Quota(kinds[0], percent)
        q.done()
    r.done()
    return Grade(code, name, minimum, quota)


def _calendar(r: Reader) -> StatisticalCalendar:
    if not r.has("calendar"):
        return StatisticalCalendar()
    sub = r.sub("calendar")
    month = sub.integer("start_month", default=1, minimum=1)
    day = sub.integer("start_day", default=1, minimum=1)
    sub.done()
    try:
        return StatisticalCalendar(month, day)
    except ValueError as error:
        sub.problem("", str(error))
        return StatisticalCalendar()


def read_scheme(data: object, problems: list[Problem]) -> Scheme:
    """Build a scheme from parsed YAML, recording problems; check ``problems`` before use."""
    r = Reader(data, "", problems)
    code = r.string("code")
    name = r.text("name")
    year = r.integer("year", minimum=MIN_YEAR)
    if year > MAX_YEAR:
        r.problem("year", _("must be at most %(max_year)s") % {"max_year": MAX_YEAR})
    issuer = r.string("issuer")
    calendar = _calendar(r)

    def each(key: str, build: Any, required: bool = True) -> tuple[Any, ...]:
        return tuple(
            build(Reader(el, where, problems)) for el, where in r.items(key, required=required)
        )

    units = each("units", _unit)
    groups = each("groups", _group)
    categories = each("categories", _category)
    items = each("items", _item)
    indicators = each("indicators", _indicator, required=False)
    grades = each("grades", _grade, required=False) if r.has("grades") else DEFAULT_GRADES
    limits: list[tuple[str, int]] = []
    if r.has("max_items_per_level"):
        sub = r.sub("max_items_per_level")
        limits = [(str(level), sub.integer(str(level), minimum=1)) for level in sub.data]
        sub.done()
    r.done()
    return Scheme(
        code=code,
        name=name,
        year=year,
        issuer=issuer,
        units=units,
        groups=groups,
        categories=categories,
        items=items,
        calendar=calendar,
        grades=grades,
        max_items_per_level=tuple(limits),
        indicators=indicators,
    )


def parse_scheme(text: str, *, source: str = "") -> Scheme:
    """A validated scheme from YAML text, or SchemeFileError listing every problem."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        message = getattr(error, "problem", None) or str(error)
        message = _("not valid YAML: %(reason)s") % {"reason": message}
        raise SchemeFileError([Problem(where, message)], source) from None
    except RecursionError:  # PyYAML composes nested lists recursively: [[[[… is a 500 else
        message = _("not valid YAML: nested too deeply")
        raise SchemeFileError([Problem("", message)], source) from None
    problems: list[Problem] = []
    scheme = read_scheme(data, problems)
    if not problems:
        problems.extend(validate_scheme(scheme))
    if problems:
        raise SchemeFileError(problems, source)
    return scheme


def load_scheme(path: str | Path) -> Scheme:
    """Read and validate a YAML scheme file."""
    path = Path(path)
    try:
        text = decode_text(path.read_bytes(), str(path))
    except OSError as error:
        raise SchemeFileError([_cannot_read(error)], str(path)) from None
    except UndecodableText as error:
        raise SchemeFileError([Problem(f"line {error.line}", str(error))], str(path)) from None
    return parse_scheme(text, source=str(path))


# ---------------------------------------------------------------- YAML out


class _Dumper(yaml.SafeDumper):
    """Writes Decimals as plain YAML numbers that ``_Loader`` reads back exactly."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.nodes.ScalarNode:
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


_Dumper.add_representer(Decimal, _represent_decimal)


def _text(text: Text) -> object:
    return {"zh": text.zh, "en": text.en} if text.en else text.zh


def _drop_empty(data: dict[str, object], *keys: str) -> dict[str, object]:
    for key in keys:
        if data.get(key) in ((), [], "", None):
            data.pop(key, None)
    return data


def scheme_to_dict(scheme: Scheme) -> dict[str, object]:
    """The scheme as plain data in the file's layout (the inverse of ``read_scheme``)."""

    def item(i: Item) -> dict[str, object]:
        target: object = i.target
        if i.unit_targets:
            target = {"default": i.target, "units": dict(i.unit_targets)}
            if i.target is None:
                target = {"units": dict(i.unit_targets)}
        data: dict[str, object] = {
            "code": i.code,
            "category": i.category,
            "indicator": i.indicator,
            "name": _text(i.name),
            "points": i.points,
            "rule": rule_to_dict(i.rule),
            "direction": str(i.direction),
            "cumulative": i.cumulative,
            "target": target,
            "rule_text": i.rule_text,
            "not_ranked_levels": list(i.not_ranked_levels),
            "levels": list(i.levels),
            "groups": list(i.groups),
        }
        return _drop_empty(data, "target", "rule_text", "not_ranked_levels", "levels", "groups")

    def grade(g: Grade) -> dict[str, object]:
        data: dict[str, object] = {"code": g.code, "name": _text(g.name), "min": g.min}
        if g.quota is not None:
            data["quota"] = {f"{g.quota.kind}_percent": g.quota.percent}
        return data

    def group(g: PeerGroup) -> dict[str, object]:
        data: dict[str, object] = {
            "code": g.code,
            "name": _text(g.name),
            "members": list(g.members),
        }
        if g.sequences:
            data["sequences"] = [
                {"code": s.code, "name": _text(s.name), "members": list(s.members)}
                for s in g.sequences
            ]
        return data

    data: dict[str, object] = {
        "code": scheme.code,
        "name": _text(scheme.name),
        "year": scheme.year,
        "issuer": scheme.issuer,
        "calendar": {
            "start_month": scheme.calendar.start_month,
            "start_day": scheme.calendar.start_day,
        },
        "units": [
            _drop_empty(
                {"code": u.code, "name": _text(u.name), "level": u.level, "kind": u.kind}, "kind"
            )
            for u in scheme.units
        ],
        "groups": [group(g) for g in scheme.groups],
        "categories": [
            {"code": c.code, "name": _text(c.name), "points": c.points} for c in scheme.categories
        ],
        "items": [item(i) for i in scheme.items],
        "grades": [grade(g) for g in scheme.grades],
    }
    if scheme.max_items_per_level:
        data["max_items_per_level"] = dict(scheme.max_items_per_level)
    if scheme.indicators:
        data["indicators"] = [indicator_to_dict(i) for i in scheme.indicators]
    return data


def indicator_to_dict(indicator: SchemeIndicator) -> dict[str, object]:
    data: dict[str, object] = {"code": indicator.code, "name": _text(indicator.name)}
    if indicator.formula is not None:
        data["formula"] = indicator.formula.text
    if indicator.decimals is not None:
        data["decimals"] = indicator.decimals
    if indicator.total is not None:
        data["total"] = indicator.total
    return data


def dump_scheme(scheme: Scheme) -> str:
    """YAML text that ``parse_scheme`` reads back to an equal scheme."""
    return yaml.dump(
        scheme_to_dict(scheme),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=100,
    )


# ---------------------------------------------------------------- CSV values

REQUIRED_COLUMNS = ("indicator", "period", "unit", "value")
OPTIONAL_COLUMNS = ("class", "reason")


@dataclass
class ValuesFile:
    """Values ready for ``compute_scores`` (and the reasons of discretionary deductions)."""

    values: dict[ValueKey, Decimal | None] = field(default_factory=dict)
    reasons: dict[ValueKey, str] = field(default_factory=dict)
    # What the file holds that no score will use (the CLI prints these, pages show them).
    warnings: list[Problem] = field(default_factory=list)


def _weighted_classes(scheme: Scheme) -> dict[str, list[str]]:
    classes: dict[str, list[str]] = {}
    for item in scheme.items:
        if item.rule.per_class:
            classes.setdefault(item.indicator, []).extend(item.rule.classes())
    return classes


def parse_values(text: str, scheme: Scheme, *, source: str = "") -> ValuesFile:
    """Values from CSV text (header ``indicator,period,unit,value`` [``,class``][``,reason``]).

    An empty value is a missing value. Every problem names its line and column; what the csv
    module cannot read (a field past its limit) names the line it stopped on.
    """
    rows = csv.reader(io.StringIO(text))
    try:
        return _parse_values(rows, scheme, source)
    except csv.Error as error:
        message = _("not CSV: %(exc)s") % {"exc": error}
        raise ValuesFileError([Problem(f"line {rows.line_num + 1}", message)], source) from None


def _parse_values(rows: Any, scheme: Scheme, source: str) -> ValuesFile:
    problems: list[Problem] = []
    header = next(rows, None)
    if header is None:
        raise ValuesFileError([Problem("line 1", _("the file is empty"))], source)
    columns = [name.strip().lower() for name in header]
    for index, name in enumerate(columns, start=1):
        if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
            message = _("unknown column %(name)s") % {"name": repr(name)}
            problems.append(Problem(f"line 1, column {index}", message))
        elif columns.index(name) != index - 1:
            message = _("duplicate column %(name)s") % {"name": repr(name)}
            problems.append(Problem(f"line 1, column {index}", message))
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(Problem("line 1", _("missing column %(name)s") % {"name": repr(name)}))
    if problems:
        raise ValuesFileError(problems, source)

    position = {name: columns.index(name) for name in columns}
    keys = scheme.value_keys
    classes = _weighted_classes(scheme)
    found = ValuesFile()
    first_line: dict[ValueKey, int] = {}
    out_of_year: dict[str, list[int]] = {}
    data_rows = 0
    line = rows.line_num + 1
    for row in rows:
        row_line, line = line, rows.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        data_rows += 1
        if len(row) != len(columns):
            problems.append(
                Problem(
                    f"line {row_line}",
                    _("expected %(expected)d fields, found %(found)d")
                    % {"expected": len(columns), "found": len(row)},
                )
            )
            continue

        def cell(name: str, row: list[str] = row) -> str:
            return row[position[name]].strip() if name in position else ""

        def where(name: str, row_line: int = row_line) -> str:
            return f"line {row_line}, column {position[name] + 1} ({name})"

        bad = False
        indicator, klass = cell("indicator"), cell("class")
        key = f"{indicator}.{klass}" if klass else indicator
        if key in scheme.formulas:
            bad = True
            inputs = ", ".join(sorted(scheme.base_inputs(key)))
            message = _(
                "indicator %(name)s is computed from its formula (%(formula)s): "
                "give its inputs (%(inputs)s), not its value"
            ) % {"name": repr(key), "formula": scheme.formulas[key].text, "inputs": inputs}
            problems.append(Problem(where("indicator"), message))
        elif key not in keys:
            bad = True
            if klass and indicator in classes:
                known = ", ".join(classes[indicator])
                problems.append(
                    Problem(
                        where("class"),
                        _("unknown class %(name)s (expected one of: %(known)s)")
                        % {"name": repr(klass), "known": known},
                    )
                )
            elif not klass and indicator in classes:
                known = ", ".join(classes[indicator])
                message = _("indicator %(name)s is counted per class: give a class (%(known)s)") % {
                    "name": repr(indicator),
                    "known": known,
                }
                problems.append(Problem(where("indicator"), message))
            else:
                message = _("unknown indicator %(name)s") % {"name": repr(indicator)}
                problems.append(Problem(where("indicator"), message))
        unit = cell("unit")
        if unit not in scheme.unit_map:
            bad = True
            problems.append(
                Problem(where("unit"), _("unknown unit %(name)s") % {"name": repr(unit)})
            )
        period = cell("period")
        try:
            period = parse_period(period).id
        except ValueError as error:
            bad = True
            problems.append(Problem(where("period"), str(error)))
        raw = cell("value")
        value: Decimal | None = None
        if raw:
            try:
                value = Decimal(raw)
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite():
                bad = True
                message = _("%(value)s is not a number") % {"value": repr(raw)}
                problems.append(Problem(where("value"), message))
        if bad:
            continue
        value_key = (key, unit, period)
        if value_key in first_line:
            message = _("duplicate of line %(line)d (same indicator, unit and period)") % {
                "line": first_line[value_key]
            }
            problems.append(Problem(f"line {row_line}", message))
            continue
        first_line[value_key] = row_line
        if parse_period(period).year != scheme.year:
            out_of_year.setdefault(period, []).append(row_line)
        found.values[value_key] = value
        reason = unguard_text(cell("reason"))
        if reason:
            found.reasons[value_key] = reason
    if problems:
        raise ValuesFileError(problems, source)
    found.warnings.extend(_values_warnings(data_rows, out_of_year, scheme.year))
    return found


def _values_warnings(rows: int, out_of_year: dict[str, list[int]], year: int) -> list[Problem]:
    """What a file that loads may still hold by mistake: no rows at all, or figures of
    another year, which no score of this scheme reads."""
    if not rows:
        return [Problem("line 2", _("the file has a header and no rows: there are no figures"))]
    return [
        Problem(
            f"line {lines[0]}",
            ngettext(
                "period %(period)s is outside the scheme's year %(year)d: "
                "%(n)d row is not used by any score",
                "period %(period)s is outside the scheme's year %(year)d: "
                "%(n)d rows are not used by any score",
                len(lines),
            )
            % {"period": period, "year": year, "n": len(lines)},
        )
        for period, lines in out_of_year.items()
    ]


def load_values(path: str | Path, scheme: Scheme) -> ValuesFile:
    """Read a CSV values file (UTF-8, with or without the BOM Excel writes)."""
    path = Path(path)
    try:
        text = decode_text(path.read_bytes(), str(path))
    except OSError as error:
        raise ValuesFileError([_cannot_read(error)], str(path)) from None
    except UndecodableText as error:
        raise ValuesFileError([Problem(f"line {error.line}", str(error))], str(path)) from None
    return parse_values(text, scheme, source=str(path))


def _cannot_read(error: OSError) -> Problem:
    return Problem("", _("cannot read: %(reason)s") % {"reason": error.strerror})


def values_to_csv(
    values: Mapping[ValueKey, Decimal | None], reasons: Mapping[ValueKey, str] | None = None
) -> str:
    """Values as CSV text in the same format (one indicator code per row, no class column).
    Text goes through the spreadsheet guard; a value is a number, written in full."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["indicator", "period", "unit", "value", "reason"])
    for (indicator, unit, period), value in values.items():
        reason = (reasons or {}).get((indicator, unit, period), "")
        writer.writerow(
            [
                safe_cell(indicator),
                safe_cell(period),
                safe_cell(unit),
                "" if value is None else format(value, "f"),
                safe_cell(reason),
            ]
        )
    return out.getvalue()
