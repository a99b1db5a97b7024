"""The scheme as an xlsx workbook with one row per item, the form evaluation offices write.

Sheets: ``scheme`` (key | value), ``groups`` (one row per member unit),
``categories``, ``items`` and ``grades``. Rule parameters are written
``key=value; key=value``; steps bands as ``bands>=85:6|90:8`` (``<=`` when
lower is better) and weighted counts as ``weights=A:10|B:3``. Reading goes
through the same file-shaped data as YAML, so the checks are the engine's;
every problem names its sheet and cell, and nothing is written unless all is
well. Every cell written goes through ``duban.spreadsheets.safe_cell`` (a name that
starts with ``=`` comes out as text) and every text read loses that apostrophe again
(``unguard_text``), so a scheme survives the round trip; the upload is opened by
``duban.spreadsheets.open_workbook`` (zip bomb, DOCTYPE).
"""

from __future__ import annotations

import io
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from duban.errors import DubanError, Problem
from duban.evaluation.builder import data_to_engine, scheme_to_data
from duban.evaluation.engine.decimals import plain
from duban.evaluation.models import Scheme
from duban.evaluation.services import save_engine_scheme
from duban.orgs.models import OrgUnit
from duban.spreadsheets import open_workbook, read_rows, safe_row, unguard_text

if TYPE_CHECKING:
    from duban.orgs.policy import Actor

ITEM_COLUMNS = ("code", "category", "indicator", "name_zh", "name_en", "points", "rule",
                "parameters", "direction", "cumulative", "target", "unit_targets", "levels",
                "groups", "not_ranked_levels", "rule_text")  # fmt: skip
GROUP_COLUMNS = ("group", "group_name_zh", "group_name_en", "unit", "sequence",
                 "sequence_name_zh", "sequence_name_en")  # fmt: skip
CATEGORY_COLUMNS = ("code", "name_zh", "name_en", "points")
GRADE_COLUMNS = ("code", "name_zh", "name_en", "min", "quota")
SCHEME_KEYS = ("code", "name_zh", "name_en", "year", "issuer", "start_month", "start_day",
               "max_items_per_level")  # fmt: skip


def _zh_en(name: Any) -> tuple[str, str]:
    if isinstance(name, dict):
        return str(name.get("zh", "")), str(name.get("en", ""))
    return str(name), ""


def _n(value: Any) -> str:
    return plain(value) if isinstance(value, Decimal) else str(value)


def _params(rule: dict[str, Any]) -> str:
    parts = []
    for key, value in rule.items():
        if key == "kind":
            continue
        if key == "bands":
            op = ">=" if "at_least" in value[0] else "<="
            bound = "at_least" if op == ">=" else "at_most"
            parts.append(
                f"bands{op}" + "|".join(f"{_n(b[bound])}:{_n(b['points'])}" for b in value)
            )
        elif key == "weights":
            parts.append("weights=" + "|".join(f"{k}:{_n(v)}" for k, v in value.items()))
        else:
            parts.append(f"{key}={_n(value)}")
    return "; ".join(parts)


def export_scheme_xlsx(scheme: Scheme) -> bytes:
    data = scheme_to_data(scheme)
    book = Workbook()
    head = book.active
    assert head is not None
    head.title = "scheme"
    zh, en = _zh_en(data["name"])
    limits = ", ".join(f"{k}={v}" for k, v in data.get("max_items_per_level", {}).items())
    for key, value in zip(SCHEME_KEYS, (data["code"], zh, en, data["year"], data["issuer"],
                          data["calendar"]["start_month"], data["calendar"]["start_day"], limits),
                          strict=True):  # fmt: skip
        head.append(safe_row([key, str(value)]))
    groups = book.create_sheet("groups")
    groups.append(safe_row(GROUP_COLUMNS))
    for g in data["groups"]:
        gzh, gen = _zh_en(g["name"])
        seq_of = {m: s for s in g.get("sequences", []) for m in s["members"]}
        for member in g["members"]:
            s = seq_of.get(member)
            szh, sen = _zh_en(s["name"]) if s else ("", "")
            groups.append(safe_row([g["code"], gzh, gen, member, s["code"] if s else "", szh, sen]))
    cats = book.create_sheet("categories")
    cats.append(safe_row(CATEGORY_COLUMNS))
    for c in data["categories"]:
        czh, cen = _zh_en(c["name"])
        cats.append(safe_row([c["code"], czh, cen, _n(c["points"])]))
    items = book.create_sheet("items")
    items.append(safe_row(ITEM_COLUMNS))
    for i in data["items"]:
        izh, ien = _zh_en(i["name"])
        target = i.get("target")
        default, per_unit = (target.get("default"), target.get("units", {})) if isinstance(
            target, dict) else (target, {})  # fmt: skip
        items.append(safe_row([
            i["code"], i["category"], i["indicator"], izh, ien, _n(i["points"]), i["rule"]["kind"],
            _params(i["rule"]), i["direction"], "yes" if i["cumulative"] else "no",
            "" if default is None else _n(default),
            "; ".join(f"{u}={_n(v)}" for u, v in per_unit.items()),
            ", ".join(i.get("levels", [])), ", ".join(i.get("groups", [])),
            ", ".join(i.get("not_ranked_levels", [])), i.get("rule_text", ""),
        ]))  # fmt: skip
    grades = book.create_sheet("grades")
    grades.append(safe_row(GRADE_COLUMNS))
    for g in data.get("grades", []):
        gzh, gen = _zh_en(g["name"])
        quota = g.get("quota") or {}
        text = " ".join(f"{k.removesuffix('_percent')} {_n(v)}" for k, v in quota.items())
        grades.append(safe_row([g["code"], gzh, gen, _n(g["min"]), text]))
    for sheet in (groups, cats, items, grades):
        sheet.freeze_panes = "A2"  # the column names stay in view as one scrolls
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class _Sheet:
    """Rows of one sheet as dicts by header, remembering each cell's address for problems."""

    def __init__(self, book: Any, name: str, columns: tuple[str, ...], problems: list[Problem]):
        self.name = name
        self.rows: list[tuple[int, dict[str, str]]] = []
        self.columns = columns
        if name not in book.sheetnames:
            problems.append(Problem(name, gettext("the workbook has no such sheet")))
            return
        rows = list(read_rows(book[name], where=name))
        header = [str(c).strip() if c is not None else "" for c in (rows[0] if rows else ())]
        missing = [c for c in columns if c not in header]
        if missing:
            problems.append(
                Problem(
                    f"{name}!1",
                    gettext("missing columns: %(columns)s") % {"columns": ", ".join(missing)},
                )
            )
            return
        self.index = {c: header.index(c) for c in columns}
        for number, row in enumerate(rows[1:], start=2):
            if all(v is None or str(v).strip() == "" for v in row):
                continue
            cells = {c: _text(row[i]) if i < len(row) else "" for c, i in self.index.items()}
            self.rows.append((number, cells))

    def at(self, row: int, column: str) -> str:
        return f"{self.name}!{get_column_letter(self.index[column] + 1)}{row}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value.is_integer() else repr(value)
    return unguard_text(str(value).strip())


def _number(text: str, where: str, problems: list[Problem]) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        problems.append(Problem(where, gettext("%(text)s is not a number") % {"text": text[:40]}))
        return None


def _whole(text: str | None) -> int | str | None:
    """A whole number written in a cell as an int; anything else as it was written, for the
    engine's reader to refuse naming its field ("²".isdigit() is true, int("²") raises)."""
    return int(text) if text is not None and re.fullmatch(r"-?[0-9]{1,9}", text) else text


def _list(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,，、]", text) if p.strip()]


def _parse_params(text: str, where: str, problems: list[Problem]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for part in [p.strip() for p in re.split(r"[;；]", text) if p.strip()]:
        match = re.match(r"^(bands)(>=|<=)(.*)$|^([a-z_]+)=(.*)$", part)
        if not match:
            problems.append(
                Problem(where, gettext("cannot read %(text)s (write key=value)") % {"text": part})
            )
            continue
        if match.group(1):
            bound = "at_least" if match.group(2) == ">=" else "at_most"
            bands = []
            for band in match.group(3).split("|"):
                b, _, p = band.partition(":")
                lo, pts = _number(b.strip(), where, problems), _number(p.strip(), where, problems)
                bands.append({bound: lo, "points": pts})
            params["bands"] = bands
        elif match.group(4) == "weights":
            params["weights"] = {
                k.strip(): _number(v.strip(), where, problems)
                for k, _, v in (w.partition(":") for w in match.group(5).split("|"))
            }
        else:
            value = match.group(5).strip()
            try:
                params[match.group(4)] = Decimal(value)
            except InvalidOperation:
                params[match.group(4)] = value
    return params


def read_workbook(data: bytes) -> dict[str, Any]:
    """File-shaped scheme data from the workbook; DubanError naming every bad cell."""
    book = open_workbook(data, where="file", data_only=True)
    try:
        return _read_book(book)
    finally:
        book.close()


def _read_book(book: Any) -> dict[str, Any]:
    problems: list[Problem] = []
    head: dict[str, str] = {}
    if "scheme" in book.sheetnames:
        for row in read_rows(book["scheme"], where="scheme"):
            if row and row[0] is not None:
                head[str(row[0]).strip()] = _text(row[1] if len(row) > 1 else None)
    else:
        problems.append(Problem("scheme", gettext("the workbook has no such sheet")))
    groups_sheet = _Sheet(book, "groups", GROUP_COLUMNS, problems)
    cats_sheet = _Sheet(book, "categories", CATEGORY_COLUMNS, problems)
    items_sheet = _Sheet(book, "items", ITEM_COLUMNS, problems)
    grades_sheet = _Sheet(book, "grades", GRADE_COLUMNS, problems)
    if problems:
        raise DubanError(problems)
    groups: dict[str, dict[str, Any]] = {}
    member_codes: list[str] = []
    for _, r in groups_sheet.rows:
        g = groups.setdefault(r["group"], {"code": r["group"], "name": _name(r["group_name_zh"],
                              r["group_name_en"]), "members": []})  # fmt: skip
        g["members"].append(r["unit"])
        member_codes.append(r["unit"])
        if r["sequence"]:
            seqs = g.setdefault("sequences", [])
            seq = next((s for s in seqs if s["code"] == r["sequence"]), None)
            if seq is None:
                seq = {"code": r["sequence"], "name": _name(r["sequence_name_zh"],
                       r["sequence_name_en"]), "members": []}  # fmt: skip
                seqs.append(seq)
            seq["members"].append(r["unit"])
    known = {u.code: u for u in OrgUnit.objects.filter(code__in=member_codes)}
    units = []
    for number, r in groups_sheet.rows:
        unit = known.get(r["unit"])
        if unit is None:
            problems.append(
                Problem(
                    groups_sheet.at(number, "unit"),
                    gettext("no unit has the code %(code)s") % {"code": r["unit"]},
                )
            )
            continue
        units.append({"code": unit.code, "name": _name(unit.name_zh, unit.name_en),
                      "level": unit.level, "kind": unit.kind})  # fmt: skip
    categories = []
    for number, r in cats_sheet.rows:
        points = _number(r["points"], cats_sheet.at(number, "points"), problems)
        categories.append({"code": r["code"], "name": _name(r["name_zh"], r["name_en"]),
                           "points": points})  # fmt: skip
    items = []
    for number, r in items_sheet.rows:
        at = items_sheet.at
        item: dict[str, Any] = {
            "code": r["code"], "category": r["category"], "indicator": r["indicator"] or r["code"],
            "name": _name(r["name_zh"], r["name_en"]),
            "points": _number(r["points"], at(number, "points"), problems),
            "rule": {"kind": r["rule"], **_parse_params(r["parameters"], at(number, "parameters"),
                                                        problems)},
            "direction": r["direction"] or "higher",
            "cumulative": r["cumulative"].lower() in ("yes", "true", "1", "是"),
        }  # fmt: skip
        per_unit = {}
        for part in [p for p in re.split(r"[;；]", r["unit_targets"]) if p.strip()]:
            code, _, value = part.partition("=")
            per_unit[code.strip()] = _number(value.strip(), at(number, "unit_targets"), problems)
        default = _number(r["target"], at(number, "target"), problems) if r["target"] else None
        if per_unit:
            item["target"] = {"units": per_unit} | (
                {"default": default} if default is not None else {}
            )
        elif default is not None:
            item["target"] = default
        if r["rule_text"]:
            item["rule_text"] = r["rule_text"]
        for key in ("levels", "groups", "not_ranked_levels"):
            if r[key]:
                item[key] = _list(r[key])
        items.append(item)
    grades = []
    for number, r in grades_sheet.rows:
        grade: dict[str, Any] = {"code": r["code"], "name": _name(r["name_zh"], r["name_en"]),
                                 "min": _number(r["min"], grades_sheet.at(number, "min"), problems)}  # fmt: skip
        if r["quota"]:
            kind, _, pct = r["quota"].partition(" ")
            grade["quota"] = {
                f"{kind}_percent": _number(pct.strip(), grades_sheet.at(number, "quota"), problems)
            }
        grades.append(grade)
    out: dict[str, Any] = {
        "code": head.get("code", ""),
        "name": _name(head.get("name_zh", ""), head.get("name_en", "")),
        "year": _whole(head.get("year")),
        "issuer": head.get("issuer", ""),
        "calendar": {
            "start_month": _whole(head.get("start_month") or "1"),
            "start_day": _whole(head.get("start_day") or "1"),
        },
        "units": units,
        "groups": list(groups.values()),
        "categories": categories,
        "items": items,
    }
    if grades:
        out["grades"] = grades
    limits = head.get("max_items_per_level", "")
    if limits:
        out["max_items_per_level"] = {
            k.strip(): _whole(v.strip()) for k, _, v in (p.partition("=") for p in _list(limits))
        }
    if problems:
        raise DubanError(problems)
    return _address(out, items_sheet)


def _address(data: dict[str, Any], items_sheet: _Sheet) -> dict[str, Any]:
    """Validate now, so that engine problems on items can be named by cell."""
    try:
        data_to_engine(data)
    except DubanError as error:
        named = []
        for p in error.problems:
            m = re.match(r"^items\[(\d+)\]\.([a-z_]+)", p.where)
            if m and int(m.group(1)) < len(items_sheet.rows):
                number = items_sheet.rows[int(m.group(1))][0]
                column = {"rule": "parameters", "target": "target", "name": "name_zh"}.get(
                    m.group(2), m.group(2))  # fmt: skip
                if column in items_sheet.columns:
                    named.append(Problem(items_sheet.at(number, column), p.message))
                    continue
            named.append(p)
        raise DubanError(named) from None
    return data


def _name(zh: str, en: str) -> Any:
    return {"zh": zh, "en": en} if en else zh


def import_scheme_xlsx(data: bytes, *, user: Actor) -> Scheme:
    """Create or replace a draft from a workbook; all or nothing."""
    return save_engine_scheme(data_to_engine(read_workbook(data)), user=user)
