"""A rule in words: each kind's name and the sentence a scheme would print for it.

One typed function serves the scheme page, the item editor's live preview and the what-if:
``kind_name(kind)`` and ``rule_sentence(rule, points)`` read the stored mapping (``kind`` plus
parameters, as ``engine.rule_to_dict`` writes it) and never a code the reader should meet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from duban.evaluation.engine.decimals import plain

KIND_NAMES: dict[str, Promise] = {
    "attainment": gettext_lazy("Scored by completion rate"),
    "shortfall": gettext_lazy("Points off per point short"),
    "steps": gettext_lazy("Scored by bands"),
    "threshold": gettext_lazy("Met or not met"),
    "weighted_count": gettext_lazy("Weighted count"),
    "deduction": gettext_lazy("Points off per occurrence"),
    "bonus": gettext_lazy("Points added per occurrence"),
    "veto": gettext_lazy("Veto"),
    "rank": gettext_lazy("Scored by place"),
    "relative_to_best": gettext_lazy("Relative to the best"),
    "discretionary": gettext_lazy("Discretionary"),
}


def kind_name(kind: str) -> str:
    """A rule kind by its name in the reader's language (an unknown kind: "other rule")."""
    name = KIND_NAMES.get(kind)
    return str(name) if name is not None else _("other rule")


def _n(value: object) -> str:
    """A parameter as entered: 0.5, 3, 100 (text that is no number is shown as given)."""
    try:
        return plain(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _attainment(rule: Mapping[str, object], points: str) -> str:
    cap = rule.get("cap", 1)
    if str(cap).lower() == "none":
        return _("%(points)s points times the completion rate, no cap") % {"points": points}
    try:
        share = plain(Decimal(str(cap)) * 100)
    except (InvalidOperation, ValueError):
        share = str(cap)
    return _("%(points)s points times the completion rate, counted up to %(cap)s%%") % {
        "points": points,
        "cap": share,
    }


def _shortfall(rule: Mapping[str, object], points: str) -> str:
    values = {"points": points, "per": _n(rule.get("per_point", 0))}
    if rule.get("basis") == "value":
        return (
            _(
                "%(points)s points at the target value; %(per)s points off for each percentage "
                "point short, down to 0"
            )
            % values
        )
    return (
        _(
            "%(points)s points at the target; %(per)s points off for each point of completion "
            "short, down to 0"
        )
        % values
    )


def _steps(rule: Mapping[str, object], points: str) -> str:
    unit = "%" if rule.get("basis") == "rate" else ""
    parts = []
    bands = rule.get("bands")
    for band in bands if isinstance(bands, list) else []:
        if not isinstance(band, Mapping):
            continue
        if "at_most" in band:
            text = _("at most %(bound)s%(unit)s (incl.): %(points)s points")
            bound = band["at_most"]
        else:
            text = _("from %(bound)s%(unit)s (incl.): %(points)s points")
            bound = band.get("at_least", "")
        parts.append(text % {"bound": _n(bound), "unit": unit, "points": _n(band.get("points"))})
    if not parts:
        return _("by bands (no band yet)")
    return pgettext("between the bands of a rule", "; ").join(parts)


def _threshold(rule: Mapping[str, object], points: str) -> str:
    if rule.get("else_points") is not None:
        missed = _n(rule["else_points"])
    else:
        try:
            missed = plain(Decimal(str(rule.get("else_share", 0))) * Decimal(points))
        except (InvalidOperation, ValueError):
            missed = _n(rule.get("else_share", 0))
    return _("%(points)s points when the target is met, %(missed)s points when not") % {
        "points": points,
        "missed": missed,
    }


def _count(rule: Mapping[str, object], points: str, kind: str) -> str:
    per = _n(rule.get("per_occurrence", 0))
    if kind == "deduction":
        return _("%(per)s points off per occurrence, down to 0 of %(points)s") % {
            "per": per,
            "points": points,
        }
    text = _("%(per)s points added per occurrence") % {"per": per}
    if rule.get("cap") is not None:
        text += _(", at most %(cap)s points") % {"cap": _n(rule["cap"])}
    return text


def _simple(rule: Mapping[str, object], points: str, kind: str) -> str:
    values = {"points": points}
    if kind == "rank":
        values["per"] = _n(rule.get("per_place", 0))
        return _("first place %(points)s points, %(per)s points less per place behind") % values
    if kind == "discretionary":
        values.update(low=_n(rule.get("min", 0)), high=_n(rule.get("max", 0)))
        return _("set by the office between %(low)s and %(high)s points") % values
    if kind == "veto":
        return _("any occurrence vetoes the unit")
    if kind == "relative_to_best":
        return _("%(points)s points for the best in the group, the others in proportion") % values
    if kind == "weighted_count":
        return _("each class counted with its weight, at most %(points)s points") % values
    return kind_name(kind)


_SENTENCES: dict[str, Callable[[Mapping[str, object], str], str]] = {
    "attainment": _attainment,
    "shortfall": _shortfall,
    "steps": _steps,
    "threshold": _threshold,
    "deduction": lambda rule, points: _count(rule, points, "deduction"),
    "bonus": lambda rule, points: _count(rule, points, "bonus"),
}


def rule_sentence(rule: Mapping[str, object], points: Decimal | int | str) -> str:
    """The rule as a sentence in the reader's language: 满分10分，完成率每低1个百分点扣0.5分…"""
    kind = str(rule.get("kind", ""))
    shown = _n(points)
    write = _SENTENCES.get(kind)
    return write(rule, shown) if write else _simple(rule, shown, kind)
