"""Defining indicators, data sets and their validation rules (the evaluation office's work).

Every function checks the policy at the issuing unit, validates the whole
definition (a formula must parse, reference known indicators and make no
cycle) and raises IndicatorError listing every problem; nothing is half-saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from duban.core.acting import attributed
from duban.errors import DubanError, Problem, clean_problems
from duban.indicators.formula import FormulaError, evaluation_order, parse_formula
from duban.indicators.models import (
    PERIOD_TYPE_LABELS,
    DataSet,
    DataSetMember,
    Indicator,
    RecordMeasure,
    ValidationRule,
    ValueType,
)
from duban.orgs import policy
from duban.orgs.models import Kind, Level, Line, OrgUnit
from duban.orgs.policy import Action
from duban.periods import PeriodType

if TYPE_CHECKING:
    from duban.orgs.policy import Actor


class IndicatorError(DubanError):
    """An indicator, data set or rule definition that cannot be saved."""


INDICATOR_FIELDS = (
    "code",
    "name_zh",
    "name_en",
    "description",
    "unit_of_measure",
    "value_type",
    "decimals",
    "direction",
    "period_type",
    "time_aggregation",
    "unit_aggregation",
    "min_value",
    "max_value",
    "levels",
    "kinds",
    "division",
    "division_reports",
    "line",
    "formula",
    "record_type",
    "record_measure",
    "record_class",
    "record_start_month",
    "record_start_day",
    "sort_order",
    "is_active",
)
# Record indicators are proposed per statistical month, quarter, half-year or year: the
# statistical calendar names these; days and ISO weeks do not follow a year starting 12/21.
RECORD_PERIOD_TYPES = frozenset(
    {PeriodType.MONTHLY, PeriodType.QUARTERLY, PeriodType.SIXMONTHLY, PeriodType.YEARLY}
)
DATASET_FIELDS = (
    "code",
    "name_zh",
    "name_en",
    "period_type",
    "timely_days",
    "expiry_days",
    "is_active",
)


def _full_clean(obj: Any, exclude: list[str] | None = None) -> list[Problem]:
    return clean_problems(obj, exclude=exclude, validate_unique=True)


def _require(user: Actor, unit: OrgUnit) -> None:
    policy.require(user, Action.MANAGE_EVALUATION, unit)


def _check_indicator(ind: Indicator) -> list[Problem]:
    problems = _full_clean(ind, exclude=["issuer", "division"])
    for field, allowed in (("levels", set(Level.values)), ("kinds", set(Kind.values))):
        value = getattr(ind, field)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(Problem(field, _("must be a list of names")))
            continue
        bad = sorted(set(value) - allowed)
        if bad:
            problems.append(
                Problem(
                    field,
                    _("unknown: %(bad)s (use %(allowed)s)")
                    % {"bad": ", ".join(bad), "allowed": ", ".join(sorted(allowed))},
                )
            )
    division = ind.division if ind.division_id is not None else None
    if division is not None:
        if division.kind != Kind.DIVISION:
            problems.append(
                Problem(
                    "division", _("%(code)s is not a police division") % {"code": division.code}
                )
            )
        elif not division.path.startswith(ind.issuer.path):
            problems.append(
                Problem(
                    "division",
                    _("%(code)s is not inside %(code2)s")
                    % {"code": division.code, "code2": ind.issuer.code},
                )
            )
    elif ind.division_reports:
        problems.append(Problem("division_reports", _("no owning division is set")))
    if division is not None and division.line:
        if not ind.line:
            ind.line = division.line  # the owning division's line, unless another is named
        elif ind.line != division.line:
            problems.append(
                Problem(
                    "line",
                    gettext("%(division)s heads the line %(line)s")
                    % {"division": division.name, "line": Line(division.line).label},
                )
            )
    if ind.formula.strip():
        problems.extend(_check_formula(ind))
    problems.extend(_check_record_rule(ind))
    return problems


def _check_record_rule(ind: Indicator) -> list[Problem]:
    """A record indicator counts or sums one record type; it is entered (confirmed or
    corrected by the reporter), so it never has a formula, and its figure is a number."""
    if not ind.is_record:
        if ind.record_class:
            return [Problem("record_class", _("a class filters records: choose the record type"))]
        return []
    problems: list[Problem] = []
    if ind.formula.strip():
        problems.append(
            Problem(
                "record_type",
                _("an indicator counted from records has no formula: clear one of the two"),
            )
        )
    if ind.period_type not in RECORD_PERIOD_TYPES:
        problems.append(
            Problem(
                "period_type",
                _("records are counted by month, quarter, half-year or year, not by %(type)s")
                % {"type": PERIOD_TYPE_LABELS[PeriodType(ind.period_type)]},
            )
        )
    if ind.value_type not in (ValueType.INTEGER, ValueType.DECIMAL):
        problems.append(
            Problem("value_type", _("a figure counted from records is a whole or decimal number"))
        )
    elif ind.record_measure == RecordMeasure.COUNT and ind.value_type != ValueType.INTEGER:
        problems.append(Problem("value_type", _("a number of records is a whole number")))
    if ind.record_type is not None and not ind.record_type.is_active:
        problems.append(
            Problem(
                "record_type",
                _("the record type %(name)s is no longer used") % {"name": ind.record_type},
            )
        )
    return problems


def _check_formula(ind: Indicator) -> list[Problem]:
    """A computed indicator reads other indicators of the same period type, without cycles."""
    try:
        formula = parse_formula(ind.formula)
    except FormulaError as exc:
        return [Problem("formula", str(exc))]
    if formula.is_condition:
        return [Problem("formula", _("a computed indicator needs a number, not a condition"))]
    known = {
        i.code: i for i in Indicator.objects.filter(code__in=formula.references).exclude(pk=ind.pk)
    }
    problems = [
        Problem("formula", _("unknown indicator %(code)s") % {"code": repr(code)})
        for code in sorted(formula.references - set(known) - {ind.code})
    ]
    if ind.code in formula.references:
        problems.append(
            Problem("formula", _("%(code)s cannot be computed from itself") % {"code": ind.code})
        )
    for code, other in sorted(known.items()):
        if other.period_type != ind.period_type:
            problems.append(
                Problem(
                    "formula",
                    _("%(code)s is %(period_type)s, not %(period_type2)s")
                    % {
                        "code": code,
                        "period_type": other.period_type,
                        "period_type2": ind.period_type,
                    },
                )
            )
    if problems:
        return problems
    formulas = {
        i.code: parse_formula(i.formula)
        for i in Indicator.objects.exclude(formula="").exclude(pk=ind.pk)
    }
    formulas[ind.code] = formula
    try:
        evaluation_order(formulas)
    except FormulaError as exc:
        return [Problem("formula", str(exc))]
    return []


@attributed
@transaction.atomic
def create_indicator(*, user: Actor, issuer: OrgUnit, **fields: Any) -> Indicator:
    """Define an indicator issued at `issuer` (the office's unit); it applies to that subtree."""
    _require(user, issuer)
    unknown = sorted(set(fields) - set(INDICATOR_FIELDS))
    if unknown:
        raise IndicatorError([Problem(f, _("unknown field")) for f in unknown])
    ind = Indicator(issuer=issuer, **fields)
    problems = _check_indicator(ind)
    if problems:
        raise IndicatorError(problems)
    ind.save()
    return ind


@attributed
@transaction.atomic
def update_indicator(ind: Indicator, *, user: Actor, **fields: Any) -> Indicator:
    """Change a definition. The code is the indicator's identity in files: it never changes."""
    _require(user, ind.issuer)
    unknown = sorted(set(fields) - set(INDICATOR_FIELDS))
    if unknown:
        raise IndicatorError([Problem(f, _("unknown field")) for f in unknown])
    if "code" in fields and fields.pop("code") != ind.code:
        raise IndicatorError(_("an indicator's code cannot change"), "code")
    locked = Indicator.objects.select_for_update().select_related("issuer").get(pk=ind.pk)
    if "formula" in fields and bool(fields["formula"].strip()) != locked.is_computed:
        raise IndicatorError(
            _("an entered indicator cannot become computed or the reverse"), "formula"
        )
    if "period_type" in fields and fields["period_type"] != locked.period_type:
        raise IndicatorError(_("the period type cannot change once defined"), "period_type")
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.__dict__.pop("parsed_formula", None)
    problems = _check_indicator(locked)
    if problems:
        raise IndicatorError(problems)
    locked.save()
    return locked


@attributed
@transaction.atomic
def create_data_set(
    *, user: Actor, owner: OrgUnit, indicators: list[str] | None = None, **fields: Any
) -> DataSet:
    _require(user, owner)
    unknown = sorted(set(fields) - set(DATASET_FIELDS))
    if unknown:
        raise IndicatorError([Problem(f, _("unknown field")) for f in unknown])
    ds = DataSet(owner=owner, **fields)
    problems = _full_clean(ds, exclude=["owner"])
    if problems:
        raise IndicatorError(problems)
    ds.save()
    if indicators:
        set_members(ds, indicators, user=user)
    return ds


@attributed
@transaction.atomic
def update_data_set(ds: DataSet, *, user: Actor, **fields: Any) -> DataSet:
    _require(user, ds.owner)
    unknown = sorted(set(fields) - set(DATASET_FIELDS))
    if unknown:
        raise IndicatorError([Problem(f, _("unknown field")) for f in unknown])
    if "code" in fields and fields.pop("code") != ds.code:
        raise IndicatorError(_("a data set's code cannot change"), "code")
    locked = DataSet.objects.select_for_update().get(pk=ds.pk)
    if "period_type" in fields and fields["period_type"] != locked.period_type:
        raise IndicatorError(_("the period type cannot change once defined"), "period_type")
    for name, value in fields.items():
        setattr(locked, name, value)
    problems = _full_clean(locked, exclude=["owner"])
    if problems:
        raise IndicatorError(problems)
    locked.save()
    return locked


@attributed
@transaction.atomic
def set_members(ds: DataSet, codes: list[str], *, user: Actor) -> list[Indicator]:
    """Make the form hold exactly these indicators, in this order.

    An indicator already on another data set, of another period type or issued
    outside the data set's reach is refused by code.
    """
    _require(user, ds.owner)
    found = {i.code: i for i in Indicator.objects.select_related("issuer").filter(code__in=codes)}
    problems: list[Problem] = []
    seen: set[str] = set()
    for pos, code in enumerate(codes):
        where = f"indicators[{pos}]"
        ind = found.get(code)
        if code in seen:
            problems.append(Problem(where, _("%(code)s is listed twice") % {"code": code}))
            continue
        seen.add(code)
        if ind is None:
            problems.append(Problem(where, _("unknown indicator %(code)s") % {"code": repr(code)}))
            continue
        if ind.period_type != ds.period_type:
            problems.append(
                Problem(
                    where,
                    _("%(code)s is %(period_type)s, the data set %(period_type2)s")
                    % {
                        "code": code,
                        "period_type": ind.period_type,
                        "period_type2": ds.period_type,
                    },
                )
            )
        if not (
            ds.owner.path.startswith(ind.issuer.path) or ind.issuer.path.startswith(ds.owner.path)
        ):
            problems.append(
                Problem(
                    where,
                    _("%(code)s is issued by %(code2)s, outside %(code3)s")
                    % {"code": code, "code2": ind.issuer.code, "code3": ds.owner.code},
                )
            )
        other = (
            DataSetMember.objects.filter(indicator=ind)
            .exclude(data_set=ds)
            .select_related("data_set")
            .first()
        )
        if other is not None:
            problems.append(
                Problem(
                    where,
                    _("%(code)s is already on data set %(code2)s")
                    % {"code": code, "code2": other.data_set.code},
                )
            )
    computed = [found[c] for c in codes if c in found and found[c].is_computed]
    for ind in computed:
        missing = sorted(ind.parsed_formula.references - set(codes)) if ind.parsed_formula else []
        if missing:
            problems.append(
                Problem(
                    "indicators",
                    _("%(code)s needs %(missing)s on the same form")
                    % {"code": ind.code, "missing": ", ".join(missing)},
                )
            )
    if problems:
        raise IndicatorError(problems)
    wanted = [found[c] for c in codes]
    existing = {m.indicator_id: m for m in DataSetMember.objects.filter(data_set=ds)}
    for m in existing.values():
        if m.indicator_id not in {i.pk for i in wanted}:
            m.delete()
    for pos, ind in enumerate(wanted):
        member = existing.get(ind.pk)
        if member is None:
            DataSetMember.objects.create(data_set=ds, indicator=ind, sort_order=pos)
        elif member.sort_order != pos:
            member.sort_order = pos
            member.save()
    return wanted


@attributed
@transaction.atomic
def add_rule(
    ds: DataSet, *, user: Actor, name: str, expression: str, message: str = ""
) -> ValidationRule:
    """A condition over the form's indicators; refused unless it parses and names only them."""
    _require(user, ds.owner)
    rule = ValidationRule(data_set=ds, name=name, expression=expression, message=message)
    problems = _full_clean(rule, exclude=["data_set"])
    try:
        formula = parse_formula(expression)
    except FormulaError as exc:
        problems.append(Problem("expression", str(exc)))
    else:
        if not formula.is_condition:
            problems.append(Problem("expression", _("a rule must be a condition such as a <= b")))
        codes = set(ds.memberships.values_list("indicator__code", flat=True))
        for code in sorted(formula.references - codes):
            problems.append(
                Problem(
                    "expression",
                    _("%(code)s is not on data set %(code2)s") % {"code": code, "code2": ds.code},
                )
            )
    if problems:
        raise IndicatorError(problems)
    rule.save()
    return rule


@attributed
@transaction.atomic
def delete_rule(rule: ValidationRule, *, user: Actor) -> None:
    _require(user, rule.data_set.owner)
    rule.delete()
