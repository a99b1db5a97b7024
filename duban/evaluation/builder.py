"""Database rows ⇄ the engine's ``Scheme``, through the YAML file layout.

Both directions go through the same plain-data shape as the documented YAML
file (``engine.files.scheme_to_dict`` / ``read_scheme``), so the rows, the
YAML file and the xlsx sheet can never disagree about what a scheme means,
and every check the file loader makes also guards the pages.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from duban.errors import DubanError, Problem
from duban.evaluation import engine
from duban.evaluation.engine.decimals import plain
from duban.evaluation.engine.files import read_scheme
from duban.evaluation.models import GroupMember, Scheme, Target
from duban.indicators.models import Indicator, UnitAggregation


def num(value: Decimal | None) -> Decimal | None:
    """A stored decimal without the column's trailing zeros (20.0000 → 20)."""
    return None if value is None else Decimal(plain(value))


def _name(zh: str, en: str) -> Any:
    return {"zh": zh, "en": en} if en else zh


def members_with_units() -> Prefetch:
    """A peer group's members with their units, joined: a national scheme's 3,000 units in
    one query (``prefetch_related("members__unit")`` asks for them by id, which SQLite
    refuses past 1,000)."""
    return Prefetch("members", queryset=GroupMember.objects.select_related("unit"))


def targets_with_units() -> Prefetch:
    """An item's per-unit targets with their units, joined (see ``members_with_units``)."""
    return Prefetch("targets", queryset=Target.objects.select_related("unit"))


def scheme_to_data(scheme: Scheme) -> dict[str, Any]:
    """The scheme's rows in the YAML file's layout (a few queries, whatever its size).

    Members and targets are read as plain tuples, joined to their units: a national
    scheme has 3,000 of each, and model instances (each snapshotted for the audit trail)
    would cost more than the scoring that follows.
    """
    groups = list(scheme.groups.all())
    members_of: dict[int, list[tuple[str, str, str, str, str, str]]] = {g.pk: [] for g in groups}
    member_rows = (
        GroupMember.objects.filter(group__scheme=scheme)
        .order_by("sort_order", "id")
        .values_list(
            "group_id", "sequence", "unit__code", "unit__name_zh", "unit__name_en",
            "unit__level", "unit__kind",
        )
    )  # fmt: skip
    for group_id, *member in member_rows:
        members_of[group_id].append(tuple(member))  # type: ignore[arg-type]
    units: list[dict[str, Any]] = []
    group_data: list[dict[str, Any]] = []
    for group in groups:
        members = members_of[group.pk]
        for _sequence, code, name_zh, name_en, level, kind in members:
            units.append(
                {"code": code, "name": _name(name_zh, name_en), "level": level, "kind": kind}
            )
        data: dict[str, Any] = {
            "code": group.code,
            "name": _name(group.name_zh, group.name_en),
            "members": [m[1] for m in members],
        }
        if group.sequences:
            data["sequences"] = [
                {
                    "code": s.get("code", ""),
                    "name": _name(s.get("name_zh", ""), s.get("name_en", "")),
                    "members": [m[1] for m in members if m[0] == s.get("code")],
                }
                for s in group.sequences
            ]
        group_data.append(data)
    targets_of: dict[int, dict[str, Decimal | None]] = {}
    target_rows = (
        Target.objects.filter(item__scheme=scheme)
        .order_by("id")
        .values_list("item_id", "unit__code", "value")
    )
    for item_id, unit_code, value in target_rows:
        targets_of.setdefault(item_id, {})[unit_code] = num(value)
    items: list[dict[str, Any]] = []
    for item in scheme.items.select_related("category"):
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
        per_unit = targets_of.get(item.pk, {})
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
    computed = computed_indicators({code for entry in items for code in _keys(entry)})
    if computed:
        data["indicators"] = computed
    if scheme.grades:
        data["grades"] = _decimals(scheme.grades)
    if scheme.max_items_per_level:
        data["max_items_per_level"] = dict(scheme.max_items_per_level)
    return data


def _keys(entry: dict[str, Any]) -> set[str]:
    """The indicator codes an item reads (a weighted count: one per class)."""
    weights = (
        entry["rule"].get("weights") if entry["rule"].get("kind") == "weighted_count" else None
    )
    if isinstance(weights, dict):
        return {f"{entry['indicator']}.{code}" for code in weights}
    return {entry["indicator"]}


def computed_indicators(codes: set[str]) -> list[dict[str, Any]]:
    """The ``indicators:`` entries for the computed indicators among ``codes`` (from
    ``Indicator.formula``), with the computed ones they read and their typed-in inputs.

    An input is listed as a base indicator whose ``total`` follows its ``unit_aggregation``
    (``sum`` adds up over units; ``average`` and ``none`` do not), so that the totals of a
    database scheme sum exactly what the indicators app says may be summed.
    """
    found: dict[str, Indicator] = {}
    wanted = set(codes)
    computed: list[str] = []
    while wanted:
        rows = Indicator.objects.filter(code__in=wanted - set(found))
        wanted = set()
        for row in rows:
            found[row.code] = row
            if row.is_computed:  # scored, or read by a computed one
                computed.append(row.code)
                parsed = row.parsed_formula
                if parsed is not None:
                    wanted |= set(parsed.references) - set(found)
    if not computed:
        return []
    refs = computed_refs({code: found[code] for code in computed})
    entries: list[dict[str, Any]] = []
    for code in computed:
        row = found[code]
        entries.append(
            {"code": code, "name": _name(row.name_zh, row.name_en), "formula": row.formula,
             "decimals": row.decimals}
        )  # fmt: skip
    for code in sorted(refs - set(computed) - codes):
        base = found.get(code)
        name = code if base is None else _name(base.name_zh, base.name_en)
        entry: dict[str, Any] = {"code": code, "name": name}
        if base is not None:
            summed = base.unit_aggregation == UnitAggregation.SUM
            entry["total"] = "sum" if summed else "none"
        entries.append(entry)
    return entries


def computed_refs(rows: dict[str, Indicator]) -> set[str]:
    """The codes the formulas of these computed indicators read."""
    refs: set[str] = set()
    for row in rows.values():
        parsed = row.parsed_formula if row.is_computed else None
        if parsed is not None:
            refs |= set(parsed.references)
    return refs


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
