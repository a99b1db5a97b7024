"""The organisation tree as a file: CSV or YAML in, CSV or YAML out.

Both formats carry the same flat rows (code, parent, names, level, kind,
sort order), so one validator serves both. An import is all or nothing: every
bad row is reported with its line number and nothing is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from duban.errors import Problem
from duban.orgs import policy
from duban.orgs.models import Kind, Level, Line, OrgUnit, code_validator
from duban.orgs.policy import Action
from duban.orgs.services import OrgError, create_unit, move_unit, update_unit
from duban.spreadsheets import safe_row, unguard_text
from duban.text import UndecodableText, control_character_message, decode_text
from duban.yaml_dates import existing_date

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

COLUMNS = ("code", "parent", "name_zh", "name_en", "level", "kind", "sort_order", "line")
REQUIRED = ("code", "name_zh", "level", "kind")


@dataclass
class TreeRow:
    source_line: int  # where the row stands in the file
    code: str
    parent: str
    name_zh: str
    name_en: str
    level: str
    kind: str
    sort_order: int
    line: str = ""  # the line a division heads (traffic, criminal …)


class TreeImportError(OrgError):
    """The file was rejected; `problems` lists every bad row."""


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    moved: int
    unchanged: int


def export_rows(units: Any) -> Iterator[dict[str, Any]]:
    """One row per unit, parents before children: the one iterator both writers use.

    Plain values read in chunks (no model instances, the parent's code by a join): the
    national tree (44,000 units) is read in one pass with flat memory."""
    fields = ("code", "parent__code", "name_zh", "name_en", "level", "kind", "sort_order", "line")
    for row in units.order_by("path").values_list(*fields).iterator(chunk_size=2000):
        yield dict(zip(COLUMNS, (row[0], row[1] or "", *row[2:]), strict=True))


def csv_lines(units: Any) -> Iterator[str]:
    """The tree as CSV lines, written as they are read (the export streams them); every
    cell through the spreadsheet guard (a unit named ``=HYPERLINK(…)`` is written as text,
    a stored control character is dropped)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(safe_row(COLUMNS))
    for n, row in enumerate(export_rows(units), start=1):
        writer.writerow(safe_row(row[c] for c in COLUMNS))
        if n % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def to_csv(units: Any) -> str:
    """The tree as CSV in one string (`csv_lines` joined)."""
    return "".join(csv_lines(units))


def to_yaml(units: Any) -> str:
    return yaml.safe_dump(
        {"units": list(export_rows(units))}, allow_unicode=True, sort_keys=False, width=120
    )


def _decode(data: bytes | str) -> str:
    try:
        return decode_text(data)
    except UndecodableText as exc:
        raise TreeImportError(str(exc), "file") from None


def _raw_rows_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _read_csv_rows(reader)
    except csv.Error as exc:  # a field past the csv module's limit, a stray quote
        raise TreeImportError(
            _("not CSV: %(exc)s") % {"exc": exc}, f"line {reader.line_num + 1}"
        ) from None


def _read_csv_rows(reader: csv.DictReader[str]) -> list[tuple[int, dict[str, Any]]]:
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise TreeImportError(
            _("header lacks column(s): %(missing)s") % {"missing": ", ".join(missing)}, "line 1"
        )
    reader.fieldnames = header
    # A name our export guarded ('=…) reads back as it was stored.
    return [
        (reader.line_num, {k: unguard_text(v) if isinstance(v, str) else v for k, v in row.items()})
        for row in reader
    ]


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line each mapping starts on."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = dict(loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", existing_date)


def _raw_rows_yaml(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise TreeImportError(
            _("not valid YAML: %(exc)s") % {"exc": getattr(exc, "problem", exc)}, where
        ) from None
    except RecursionError:  # PyYAML composes nested lists recursively: [[[[… is a 500 else
        raise TreeImportError(gettext("not valid YAML: nested too deeply"), "file") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("units"), list):
        raise TreeImportError(_("expected a mapping with a 'units' list"), "file")
    rows = []
    for item in doc["units"]:
        if not isinstance(item, dict):
            raise TreeImportError(_("each unit must be a mapping"), "units")
        # Not popped: an alias (`- *a`) names the same mapping twice.
        rows.append((item["__line__"], {k: v for k, v in item.items() if k != "__line__"}))
    return rows


def parse(data: bytes | str, fmt: str) -> list[TreeRow]:
    """Read and check every row on its own; raise one error listing all problems."""
    text = _decode(data)
    if fmt == "csv":
        raw = _raw_rows_csv(text)
    elif fmt in ("yaml", "yml"):
        raw = _raw_rows_yaml(text)
    else:
        raise TreeImportError(
            _("unknown format %(fmt)s: use csv or yaml") % {"fmt": repr(fmt)}, "format"
        )
    if not raw:  # a header alone (or `units: []`) imports nothing: say so, never silence
        raise TreeImportError(_("the file has a header and no rows: there is nothing to import"))
    problems: list[Problem] = []
    rows: list[TreeRow] = []
    levels, kinds, lines = set(Level.values), set(Kind.values), set(Line.values)
    for line, item in raw:
        where = f"line {line}"
        values = {k: ("" if item.get(k) is None else str(item.get(k)).strip()) for k in COLUMNS}
        bad = False
        for col in COLUMNS:
            message = control_character_message(values[col])
            if message:
                problems.append(
                    Problem(where, _("%(code)s: %(problem)s") % {"code": col, "problem": message})
                )
                bad = True
        for col in REQUIRED:
            if not values[col]:
                problems.append(Problem(where, _("%(col)s is empty") % {"col": col}))
                bad = True
        if values["code"]:
            try:
                code_validator(values["code"])
            except Exception:
                problems.append(
                    Problem(
                        where,
                        _("code %(code)s is not a valid code") % {"code": repr(values["code"])},
                    )
                )
                bad = True
        if values["level"] and values["level"] not in levels:
            problems.append(
                Problem(
                    where,
                    _("level %(level)s is not one of %(levels)s")
                    % {"level": repr(values["level"]), "levels": sorted(levels)},
                )
            )
            bad = True
        if values["kind"] and values["kind"] not in kinds:
            problems.append(
                Problem(
                    where,
                    _("kind %(kind)s is not one of %(kinds)s")
                    % {"kind": repr(values["kind"]), "kinds": sorted(kinds)},
                )
            )
            bad = True
        if values["line"] and values["line"] not in lines:
            problems.append(
                Problem(
                    where,
                    _("line %(line)s is not one of %(lines)s")
                    % {"line": repr(values["line"]), "lines": sorted(lines)},
                )
            )
            bad = True
        elif values["line"] and values["kind"] != Kind.DIVISION:
            problems.append(Problem(where, _("only a police division heads a line")))
            bad = True
        try:
            sort_order = int(values["sort_order"] or 0)
        except ValueError:
            problems.append(
                Problem(
                    where,
                    _("sort_order %(sort_order)s is not a whole number")
                    % {"sort_order": repr(values["sort_order"])},
                )
            )
            bad = True
            sort_order = 0
        if not bad:
            rows.append(
                TreeRow(
                    line,
                    values["code"],
                    values["parent"],
                    values["name_zh"],
                    values["name_en"],
                    values["level"],
                    values["kind"],
                    sort_order,
                    values["line"],
                )
            )
    _check_tree(rows, problems)
    if problems:
        raise TreeImportError(sorted(problems, key=_line_key))
    return rows


def _line_key(p: Problem) -> tuple[int, str]:
    parts = p.where.split()
    return (int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else 0, p.message)


def _check_tree(rows: list[TreeRow], problems: list[Problem]) -> None:
    """Duplicates, unknown parents, cycles and misplaced levels, against file and database."""
    first_line: dict[str, int] = {}
    for row in rows:
        if row.code in first_line:
            problems.append(
                Problem(
                    f"line {row.source_line}",
                    _("duplicate code %(code)s (first on line %(first_line)s)")
                    % {"code": repr(row.code), "first_line": first_line[row.code]},
                )
            )
        else:
            first_line[row.code] = row.source_line
    in_file = {row.code: row for row in rows}
    existing = {
        u.code: (u.parent.code if u.parent else "", u.level)
        for u in OrgUnit.objects.select_related("parent").only("code", "level", "parent__code")
    }

    def parent_of(code: str) -> str:
        if code in in_file:
            return in_file[code].parent
        return existing.get(code, ("", ""))[0]

    def level_of(code: str) -> str:
        return in_file[code].level if code in in_file else existing.get(code, ("", ""))[1]

    _check_paths(rows, parent_of, problems)
    for row in rows:
        where = f"line {row.source_line}"
        if row.parent:
            if row.parent == row.code:
                problems.append(
                    Problem(where, _("%(code)s is its own parent") % {"code": row.code})
                )
                continue
            if row.parent not in in_file and row.parent not in existing:
                problems.append(
                    Problem(where, _("unknown parent %(parent)s") % {"parent": repr(row.parent)})
                )
                continue
            seen = {row.code}
            cursor = row.parent
            while cursor:
                if cursor in seen:
                    problems.append(
                        Problem(
                            where,
                            _("parent chain of %(code)s makes a cycle through %(cursor)s")
                            % {"code": row.code, "cursor": cursor},
                        )
                    )
                    break
                seen.add(cursor)
                cursor = parent_of(cursor)
            parent_level = level_of(row.parent)
            if parent_level and Level.rank(row.level) < Level.rank(parent_level):
                problems.append(
                    Problem(
                        where,
                        _("level %(level)s cannot sit below a %(parent_level)s unit (%(parent)s)")
                        % {"level": row.level, "parent_level": parent_level, "parent": row.parent},
                    )
                )


PATH_LENGTH = OrgUnit._meta.get_field("path").max_length or 0


def _check_paths(rows: list[TreeRow], parent_of: Any, problems: list[Problem]) -> None:
    """A unit's path (the codes from its root down, `/A/B/C/`) must fit its column: a tree
    too deep for it was a database error on PostgreSQL (a 500), half-way through the import."""
    for row in rows:
        chain: list[str] = []
        cursor = row.code
        while cursor and cursor not in chain:
            chain.append(cursor)
            cursor = parent_of(cursor)
        if cursor:
            continue  # a cycle, refused on its own
        length = 1 + sum(len(code) + 1 for code in chain)
        if length > PATH_LENGTH:
            problems.append(
                Problem(
                    f"line {row.source_line}",
                    _(
                        "%(code)s sits %(depth)d levels deep: the codes from its root down "
                        "take %(length)d characters, at most %(limit)d fit; use shorter codes "
                        "or fewer levels"
                    )
                    % {
                        "code": row.code,
                        "depth": len(chain),
                        "length": length,
                        "limit": PATH_LENGTH,
                    },
                )
            )


@transaction.atomic
def import_tree(
    data: bytes | str, fmt: str, *, user: Actor, reason: str = "tree import"
) -> ImportSummary:
    """Create or update every unit in the file, parents first; all or nothing."""
    rows = parse(data, fmt)
    by_code = {row.code: row for row in rows}
    ordered: list[TreeRow] = []
    placed: set[str] = set()

    def place(row: TreeRow) -> None:
        if row.code in placed:
            return
        if row.parent in by_code:
            place(by_code[row.parent])
        placed.add(row.code)
        ordered.append(row)

    for row in rows:
        place(row)
    created = updated = moved = unchanged = 0
    problems: list[Problem] = []
    for row in ordered:
        parent = OrgUnit.objects.filter(code=row.parent).first() if row.parent else None
        unit = OrgUnit.objects.filter(code=row.code).first()
        fields = {
            "name_zh": row.name_zh,
            "name_en": row.name_en,
            "level": row.level,
            "kind": row.kind,
            "sort_order": row.sort_order,
            "line": row.line,
        }
        try:
            if unit is None:
                if parent is None and not policy.is_system(user):
                    raise TreeImportError(
                        _("only the installation's superuser creates a root unit"), "parent"
                    )
                create_unit(user=user, parent=parent, code=row.code, **fields)
                created += 1
                continue
            policy.require(user, Action.EDIT_TREE, unit)
            if (unit.parent.code if unit.parent else "") != row.parent:
                if parent is None:
                    raise TreeImportError(_("a unit cannot be made a root by import"), "parent")
                move_unit(unit, parent, user=user, reason=reason)
                unit.refresh_from_db()
                moved += 1
            if any(getattr(unit, k) != v for k, v in fields.items()):
                update_unit(unit, user=user, **fields)
                updated += 1
            else:
                unchanged += 1
        except OrgError as exc:
            problems.extend(Problem(f"line {row.source_line}", p.message) for p in exc.problems)
        except PermissionDenied:
            problems.append(
                Problem(
                    f"line {row.source_line}",
                    _("you may not change the tree at %(code)s") % {"code": row.code},
                )
            )
    if problems:
        raise TreeImportError(problems)
    return ImportSummary(created, updated, moved, unchanged)
