"""Database rows ⇄ the engine's ``Scheme``, through the YAML file layout.

Both directions go through the same plain-data shape as the documented YAML
file (``engine.files.scheme_to_dict`` / ``read_scheme``), so the rows, the
YAML file and the xlsx sheet can never disagree about what a scheme means,
and every check the file loader makes also guards the pages.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from duban.errors import DubanError, Problem
from duban.evaluation import engine
from duban.evaluation.engine.decimals import plain
from duban.evaluation.engine.files import read_scheme
from duban.evaluation.models import Scheme


def num(value: Decimal | None) -> Decimal | None:
    """A stored decimal without the column's trailing zeros (20.0000 → 20)."""
    return None if value is None else Decimal(plain(value))


def _name(zh: str, en: str) -> Any:
    return {"zh": zh, "en": en} if en else zh


def scheme_to_data(scheme: Scheme) -> dict[str, Any]:
    """The scheme's rows in the YAML file's layout (a few queries, whatever its size)."""
    groups = list(scheme.groups.prefetch_related("members__unit"))
    units: list[dict[str, Any]] = []
    group_data: list[dict[str, Any]] = []
    for group in groups:
        members = list(group.members.all())
        for member in members:
            unit = member.unit
            units.append(
                {
                    "code": unit.code,
                    "name": _name(unit.name_zh, unit.name_en),
                    "level": unit.level,
                    "kind": unit.kind,
                }
            )
        data: dict[str, Any] = {
            "code": group.code,
            "name": _name(group.name_zh, group.name_en),
            "members": [m.unit.code for m in members],
        }
        if group.sequences:
            data["sequences"] = [
                {
                    "code": s.get("code", ""),
                    "name": _name(s.get("name_zh", ""), s.get("name_en", "")),
                    "members": [m.unit.code for m in members if m.sequence == s.get("code")],
                }
                for s in group.sequences
            ]
        group_data.append(data)
    items: list[dict[str, Any]] = []
    for item in scheme.items.select_related("category").prefetch_related("targets__unit"):
        entry: dict[str, Any] = {
            "code": item.code,
            "category": item.category.code,
            "indicator": item.indicator,
            "name": _name(item.name_zh, item.name_en),
            "points": num(item.points),
            "rule": _decimals(item.rule),
            "direction": item.direction,
            "cumulative": item.cumulative,
        }
        per_unit = {t.unit.code: num(t.value) for t in item.targets.all()}
        if per_unit:
            entry["target"] = {"units": per_unit}
            if item.target is not None:
                entry["target"]["default"] = num(item.target)
        elif item.target is not None:
            entry["target"] = num(item.target)
        if item.rule_text:
            entry["rule_text"] = item.rule_text
        for key in ("levels", "groups", "not_ranked_levels"):
            if getattr(item, key):
                entry[key] = list(getattr(item, key))
        items.append(entry)
    data = {
        "code": scheme.code,
        "name": _name(scheme.name_zh, scheme.name_en),
        "year": scheme.year,
        "issuer": scheme.issuer.code,
        "calendar": {"start_month": scheme.start_month, "start_day": scheme.start_day},
        "units": units,
        "groups": group_data,
        "categories": [
            {"code": c.code, "name": _name(c.name_zh, c.name_en), "points": num(c.points)}
            for c in scheme.categories.all()
        ],
        "items": items,
    }
    if scheme.grades:
        data["grades"] = _decimals(scheme.grades)
    if scheme.max_items_per_level:
        data["max_items_per_level"] = dict(scheme.max_items_per_level)
    return data


def _decimals(data: Any) -> Any:
    """JSON keeps rule parameters as strings or floats; the engine reads exact Decimals."""
    if isinstance(data, dict):
        return {k: _decimals(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_decimals(v) for v in data]
    if isinstance(data, float):
        return Decimal(repr(data))
    if isinstance(data, int) and not isinstance(data, bool):
        return Decimal(data)
    if isinstance(data, str):
        try:
            return Decimal(data) if data.strip() and data.strip()[0] in "-0123456789." else data
        except ArithmeticError:
            return data
    return data


def to_json(data: Any) -> Any:
    """Engine data (Decimals) as JSON for a JSONField: exact decimal strings."""
    if isinstance(data, dict):
        return {str(k): to_json(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [to_json(v) for v in data]
    if isinstance(data, Decimal):
        return plain(data)
    return data


def data_to_engine(data: dict[str, Any]) -> engine.Scheme:
    """Read and validate file-shaped data; DubanError naming every problem."""
    problems: list[Problem] = []
    built = read_scheme(data, problems)
    if not problems:
        problems.extend(engine.validate_scheme(built))
    if problems:
        raise DubanError(problems)
    return built


def scheme_to_engine(scheme: Scheme) -> engine.Scheme:
    """The engine's frozen scheme for these rows, validated exactly as a YAML file is."""
    return data_to_engine(scheme_to_data(scheme))
