"""Score a YAML scheme against a CSV values file and render the result (no database).

``score_files`` is what ``manage.py score`` calls; the renderers also serve
anyone holding a ``SchemeResult``. JSON numbers are strings so that exact
decimals survive a JSON parser; the layout is documented in
``docs/scheme-format.md``.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from duban.evaluation.engine.compute import compute_scores
from duban.evaluation.engine.decimals import fixed, plain
from duban.evaluation.engine.explain import LANGS
from duban.evaluation.engine.files import load_scheme, load_values
from duban.evaluation.engine.model import Scheme
from duban.evaluation.engine.results import ItemResult, SchemeResult, UnitResult
from duban.evaluation.engine.totals import FORMULA, NONE, ItemTotal, Totals
from duban.spreadsheets import safe_row

FORMATS = ("table", "csv", "json")


def score_files(
    scheme_path: str | Path,
    values_path: str | Path,
    period_id: str,
    fmt: str = "table",
    lang: str = "zh",
    *,
    today: date | None = None,
    warn: Callable[[str], object] | None = None,
    totals: bool = False,
) -> str:
    """Load both files, score the period and render it as a table, CSV or JSON.

    Raises SchemeFileError / ValuesFileError (both ValueError) naming every
    problem, or ValueError for a bad period, format or language. What the values file
    holds that no score uses (no rows, another year's periods) goes to `warn`, one line
    each, so the output itself stays a clean table, CSV or JSON.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (expected one of: {', '.join(LANGS)})")
    scheme = load_scheme(scheme_path)
    table = load_values(values_path, scheme)
    if warn is not None:
        for warning in table.warnings:
            warn(f"{values_path}: {warning}")
    result = compute_scores(scheme, table.values, period_id, today=today, reasons=table.reasons)
    return render(result, fmt, lang, totals=totals)


def render(
    result: SchemeResult, fmt: str = "table", lang: str = "zh", *, totals: bool = False
) -> str:
    """The result as a table, CSV or JSON; ``totals`` adds the issuer's and each comparison
    group's totals (table and JSON; the CSV stays one row per unit and item)."""
    if fmt == "json":
        data = result_to_dict(result, lang)
        if totals:
            data["totals"] = totals_to_dict(result, lang)
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return render_csv(result, lang)
    if fmt == "table":
        return render_table(result, lang, totals=totals)
    raise ValueError(f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")


def _opt(value: Any) -> str | None:
    return None if value is None else plain(value)


def _in_display_order(result: SchemeResult, members: tuple[str, ...]) -> list[UnitResult]:
    """The members' results best first; ties in the scheme's unit order (as ``result.units``)."""
    wanted = set(members)
    return [unit for code, unit in result.units.items() if code in wanted]


def _item_dict(result: SchemeResult, r: ItemResult, lang: str) -> dict[str, Any]:
    placed = result.item_place(r.unit, r.item.code)
    rate = r.rate
    explanation = r.explanation
    return {
        "code": r.item.code,
        "name": r.item.name.get(lang),
        "category": r.item.category,
        "indicator": r.item.indicator,
        "rule": r.item.rule.kind,
        "points": plain(r.item.points),
        "score": fixed(r.score, 2),
        "score_exact": plain(r.score),
        "value": _opt(r.value),
        "target": _opt(r.target),
        "rate_percent": None if rate is None else fixed(rate * 100, 1),
        "expected": _opt(r.expected),
        "place": placed[0] if placed else None,
        "placed": placed[1] if placed else None,
        "counted": r.counted,
        "flags": list(r.flags),
        "explanation": explanation.text(lang),
        "steps": explanation.as_data(),
    }


def _unit_dict(result: SchemeResult, u: UnitResult, lang: str) -> dict[str, Any]:
    categories = result.scheme.category_map
    return {
        "code": u.unit.code,
        "name": u.unit.name.get(lang),
        "level": u.unit.level,
        "group": u.group,
        "sequence": u.sequence,
        "total": fixed(u.total, 2),
        "total_exact": plain(u.total),
        "rank": u.rank,
        "group_rank": u.group_rank,
        "grade": {"code": u.grade.code, "name": u.grade.name.get(lang)},
        "band": {"code": u.band.code, "name": u.band.name.get(lang)},
        "vetoed": u.vetoed,
        "categories": [
            {
                "code": c.code,
                "name": categories[c.code].name.get(lang),
                "score": fixed(c.score, 2),
                "rank": c.rank,
            }
            for c in u.categories.values()
        ],
        "items": [_item_dict(result, r, lang) for r in u.items.values()],
        "shortfalls": [
            {
                "item": row.item.code,
                "reasons": list(row.reasons),
                "points_lost": fixed(row.points_lost, 2),
                "room": fixed(row.room, 2),
            }
            for row in result.shortfalls(u.unit.code)
        ],
    }


def result_to_dict(result: SchemeResult, lang: str = "zh") -> dict[str, Any]:
    """The whole result as JSON-ready data (see docs/scheme-format.md, "JSON output")."""
    scheme = result.scheme
    groups = {group.code: group for group in scheme.groups}
    cohorts = []
    for group_code, sequence_code, members in result.cohorts:
        group = groups[group_code]
        sequence = next((s for s in group.sequences if s.code == sequence_code), None)
        ranked = [u.unit.code for u in _in_display_order(result, members)]
        cohorts.append(
            {
                "group": group_code,
                "group_name": group.name.get(lang),
                "sequence": sequence_code,
                "sequence_name": sequence.name.get(lang) if sequence else None,
                "units": ranked,
            }
        )
    return {
        "scheme": {"code": scheme.code, "name": scheme.name.get(lang), "year": scheme.year},
        "period": result.period.id,
        "as_of": result.as_of.isoformat(),
        "elapsed_percent": fixed(_percent(result), 1),
        "final": result.final,
        "lang": lang,
        "cohorts": cohorts,
        "units": [_unit_dict(result, u, lang) for u in result.units.values()],
        "problems": [
            {"item": p.item, "unit": p.unit, "code": p.code, "message": p.text(lang)}
            for p in result.problems
        ],
        "warnings": [{"where": w.where, "message": w.message} for w in result.warnings],
    }


def _percent(result: SchemeResult) -> Decimal:
    return Decimal(result.elapsed.numerator) * 100 / Decimal(result.elapsed.denominator)


CSV_COLUMNS = (
    "group",
    "sequence",
    "unit",
    "unit_name",
    "rank",
    "group_rank",
    "total",
    "grade",
    "vetoed",
    "category",
    "item",
    "item_name",
    "value",
    "target",
    "points",
    "score",
    "place",
    "flags",
    "explanation",
)


def _number(text: str | None) -> Decimal | str:
    """A formatted figure as the number it is (digits kept), so the spreadsheet guard leaves
    a negative one alone; "" when there is none, ``∞`` as text."""
    if text is None:
        return ""
    try:
        value = Decimal(text)
    except ArithmeticError:
        return text
    return value if value.is_finite() else text


def render_csv(result: SchemeResult, lang: str = "zh") -> str:
    """One row per unit and item, unit columns repeated: easy to filter in a spreadsheet.
    Every cell goes through the spreadsheet guard; figures are numbers, not text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(safe_row(CSV_COLUMNS))
    for u in result.units.values():
        for r in u.items.values():
            placed = result.item_place(u.unit.code, r.item.code)
            writer.writerow(
                safe_row(
                    [
                        u.group,
                        u.sequence or "",
                        u.unit.code,
                        u.unit.name.get(lang),
                        u.rank,
                        u.group_rank,
                        _number(fixed(u.total, 2)),
                        u.grade.name.get(lang),
                        "1" if u.vetoed else "0",
                        r.item.category,
                        r.item.code,
                        r.item.name.get(lang),
                        _number(_opt(r.value)),
                        _number(_opt(r.target)),
                        _number(plain(r.item.points)),
                        _number(fixed(r.score, 2)),
                        placed[0] if placed else "",
                        " ".join(r.flags),
                        r.explanation.text(lang),
                    ]
                )
            )
    return out.getvalue()


def _total_dict(total: ItemTotal, lang: str) -> dict[str, Any]:
    rate = total.completion
    return {
        "item": total.item.code,
        "name": total.item.name.get(lang),
        "indicator": total.item.indicator,
        "how": total.how,
        "value": _opt(total.value),
        "target": _opt(total.target),
        "rate_percent": None if rate is None else fixed(rate * 100, 2),
        "units": len(total.units),
        "given": len(total.given),
        "incomplete": total.incomplete,
        "inputs": {code: _opt(value) for code, value in total.inputs.items()},
    }


def _totals_dict(found: Totals, lang: str) -> list[dict[str, Any]]:
    return [_total_dict(t, lang) for t in found.values() if t.how != NONE and t.units]


def totals_to_dict(result: SchemeResult, lang: str = "zh") -> dict[str, Any]:
    """The issuer's total and each comparison group's, item by item (``--totals``)."""
    return {
        "issuer": {"unit": result.scheme.issuer, "items": _totals_dict(result.totals(), lang)},
        "cohorts": [
            {
                "group": group,
                "sequence": sequence,
                "items": _totals_dict(result.totals(group, sequence), lang),
            }
            for group, sequence, _members in result.cohorts
        ],
    }


def _shown(total: ItemTotal, scheme: Scheme) -> str:
    """The total's value; a computed one with its indicator's decimals (default 2)."""
    value = total.value
    if value is None:
        return ""
    if total.how == FORMULA:
        declared = scheme.indicator_map[total.item.indicator].decimals
        return fixed(value, 2 if declared is None else declared)
    return plain(value)


def totals_table(found: Totals, scheme: Scheme, title: str, lang: str) -> list[str]:
    """The totals rows of one set of units: item, value, target, completion, units given."""
    header = [_label(k, lang) for k in ("item", "value", "target", "rate", "given")]
    rows = []
    for total in found.values():
        if total.how == NONE or not total.units:
            continue
        rate = total.completion
        given = f"{len(total.given)}/{len(total.units)}"
        if total.incomplete:
            given += f" {_label('incomplete', lang)}"
        rows.append(
            [
                total.item.name.get(lang),
                _shown(total, scheme),
                "" if total.target is None else plain(total.target),
                "" if rate is None else fixed(rate * 100, 2) + "%",
                given,
            ]
        )
    if not rows:
        return []
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["", f"-- {_label('totals', lang)}: {title} --"]
    for row in [header, *rows]:
        cells = [_pad(cell, widths[i], right=i in (1, 2, 3)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return lines


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


_LABELS: dict[str, dict[str, str]] = {
    "rank": {"zh": "排名", "en": "Rank"},
    "unit": {"zh": "单位", "en": "Unit"},
    "total": {"zh": "总分", "en": "Total"},
    "grade": {"zh": "等次", "en": "Grade"},
    "veto": {"zh": "否决", "en": "Veto"},
    "as_of": {"zh": "截至", "en": "as of"},
    "moved": {
        "zh": "* 按分数段应为括号内等次，因名额限制或一票否决调整",
        "en": "* the band in brackets was moved by a quota or a veto",
    },
    "problems": {"zh": "无法计分的数据", "en": "Values that could not be scored"},
    "warnings": {"zh": "方案提示", "en": "Scheme warnings"},
    "yes": {"zh": "是", "en": "yes"},
    "totals": {"zh": "合计", "en": "Total"},
    "all_units": {"zh": "全部单位", "en": "all units"},
    "item": {"zh": "项目", "en": "Item"},
    "value": {"zh": "合计值", "en": "Value"},
    "target": {"zh": "目标", "en": "Target"},
    "rate": {"zh": "完成率", "en": "Completion"},
    "given": {"zh": "有数据单位", "en": "Units given"},
    "incomplete": {"zh": "数据不全", "en": "incomplete"},
}


def _label(key: str, lang: str) -> str:
    return _LABELS[key][lang]


def render_table(result: SchemeResult, lang: str = "zh", *, totals: bool = False) -> str:
    """A plain-text ranking per comparison group, with category scores; with ``totals``
    each group's totals rows below its ranking and the issuer's total after them."""
    scheme = result.scheme
    groups = {group.code: group for group in scheme.groups}
    as_of = f"{_label('as_of', lang)} {result.as_of.isoformat()}"
    lines = [f"{scheme.name.get(lang)} · {result.period.id} ({as_of})"]
    moved = False
    for group_code, sequence_code, members in result.cohorts:
        group = groups[group_code]
        title = group.name.get(lang)
        if sequence_code is not None:
            sequence = next(s for s in group.sequences if s.code == sequence_code)
            title += " · " + sequence.name.get(lang)
        units = _in_display_order(result, members)
        cats = [c for c in scheme.categories if any(c.code in u.categories for u in units)]
        header = [_label(k, lang) for k in ("rank", "unit", "total", "grade", "veto")]
        header += [c.name.get(lang) for c in cats]
        rows = []
        for u in units:
            grade = u.grade.name.get(lang)
            if u.grade.code != u.band.code:
                grade += f"*({u.band.name.get(lang)})"
                moved = True
            row = [
                str(u.rank),
                u.unit.name.get(lang),
                fixed(u.total, 2),
                grade,
                _label("yes", lang) if u.vetoed else "",
            ]
            row += [
                fixed(u.categories[c.code].score, 2) if c.code in u.categories else "" for c in cats
            ]
            rows.append(row)
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        numeric = {0, 2} | set(range(5, len(header)))
        lines.append("")
        lines.append(f"== {title} ==")
        for row in [header, *rows]:
            cells = [_pad(cell, widths[i], right=i in numeric) for i, cell in enumerate(row)]
            lines.append("  ".join(cells).rstrip())
        if totals:
            lines += totals_table(result.totals(group_code, sequence_code), scheme, title, lang)
    if totals:
        lines += totals_table(result.totals(), scheme, _label("all_units", lang), lang)
    if moved:
        lines += ["", _label("moved", lang)]
    if result.problems:
        lines += ["", _label("problems", lang) + ":"]
        lines += [f"  - {p.text(lang)}" for p in result.problems]
    if result.warnings:
        lines += ["", _label("warnings", lang) + ":"]
        lines += [f"  - {w}" for w in result.warnings]
    return "\n".join(lines) + "\n"
