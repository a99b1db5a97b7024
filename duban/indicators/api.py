"""Indicator and data set routes: read what applies to one's units, define at the office's unit."""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from duban.core.patch import patch_changes
from duban.indicators import services
from duban.indicators.formula import FormulaError, parse_formula
from duban.indicators.models import DataSet, Indicator, ValidationRule
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.web import AuthenticatedHttpRequest, actor

router = Router(tags=["indicators"])


class IndicatorOut(Schema):
    code: str
    name_zh: str
    name_en: str
    description: str
    unit_of_measure: str
    value_type: str
    decimals: int
    direction: str
    period_type: str
    time_aggregation: str
    unit_aggregation: str
    min_value: Decimal | None
    max_value: Decimal | None
    levels: list[str]
    kinds: list[str]
    issuer: str
    division: str | None
    division_reports: bool
    line: str
    formula: str
    record_type: str | None
    record_measure: str
    record_class: str
    record_start_month: int
    record_start_day: int
    data_set: str | None
    is_active: bool

    @staticmethod
    def of(ind: Indicator) -> IndicatorOut:
        member = ind.memberships.select_related("data_set").first()
        return IndicatorOut(
            code=ind.code,
            name_zh=ind.name_zh,
            name_en=ind.name_en,
            description=ind.description,
            unit_of_measure=ind.unit_of_measure,
            value_type=ind.value_type,
            decimals=ind.decimals,
            direction=ind.direction,
            period_type=ind.period_type,
            time_aggregation=ind.time_aggregation,
            unit_aggregation=ind.unit_aggregation,
            min_value=ind.min_value,
            max_value=ind.max_value,
            levels=ind.levels,
            kinds=ind.kinds,
            issuer=ind.issuer.code,
            division=ind.division.code if ind.division else None,
            division_reports=ind.division_reports,
            line=ind.line,
            formula=ind.formula,
            record_type=ind.record_type.code if ind.record_type else None,
            record_measure=ind.record_measure,
            record_class=ind.record_class,
            record_start_month=ind.record_start_month,
            record_start_day=ind.record_start_day,
            data_set=member.data_set.code if member else None,
            is_active=ind.is_active,
        )


class IndicatorIn(Schema):
    code: str
    issuer: str
    name_zh: str
    name_en: str = ""
    description: str = ""
    unit_of_measure: str = ""
    value_type: str
    decimals: int = 2
    direction: str = "higher"
    period_type: str = "monthly"
    time_aggregation: str = "sum"
    unit_aggregation: str = "sum"
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    levels: list[str] = []
    kinds: list[str] = []
    division: str | None = None
    division_reports: bool = False
    line: str = ""
    formula: str = ""
    record_type: str | None = None
    record_measure: str = "count"
    record_class: str = ""
    record_start_month: int = 1
    record_start_day: int = 1
    sort_order: int = 0


class IndicatorPatch(Schema):
    name_zh: str | None = None
    name_en: str | None = None
    description: str | None = None
    unit_of_measure: str | None = None
    decimals: int | None = None
    direction: str | None = None
    time_aggregation: str | None = None
    unit_aggregation: str | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    levels: list[str] | None = None
    kinds: list[str] | None = None
    division: str | None = None
    division_reports: bool | None = None
    line: str | None = None
    formula: str | None = None
    record_type: str | None = None
    record_measure: str | None = None
    record_class: str | None = None
    record_start_month: int | None = None
    record_start_day: int | None = None
    sort_order: int | None = None
    is_active: bool | None = None


class RuleOut(Schema):
    id: int
    name: str
    expression: str
    message: str


class RuleIn(Schema):
    name: str
    expression: str
    message: str = ""


class DataSetOut(Schema):
    code: str
    name_zh: str
    name_en: str
    period_type: str
    owner: str
    timely_days: int
    expiry_days: int
    indicators: list[str]
    rules: list[RuleOut]
    is_active: bool

    @staticmethod
    def of(ds: DataSet) -> DataSetOut:
        return DataSetOut(
            code=ds.code,
            name_zh=ds.name_zh,
            name_en=ds.name_en,
            period_type=ds.period_type,
            owner=ds.owner.code,
            timely_days=ds.timely_days,
            expiry_days=ds.expiry_days,
            indicators=[i.code for i in ds.members()],
            rules=[
                RuleOut(id=r.pk, name=r.name, expression=r.expression, message=r.message)
                for r in ds.rules()
            ],
            is_active=ds.is_active,
        )


class DataSetIn(Schema):
    code: str
    owner: str
    name_zh: str
    name_en: str = ""
    period_type: str = "monthly"
    timely_days: int = 5
    expiry_days: int = 15
    indicators: list[str] = []


class DataSetPatch(Schema):
    name_zh: str | None = None
    name_en: str | None = None
    timely_days: int | None = None
    expiry_days: int | None = None
    is_active: bool | None = None


class MembersIn(Schema):
    indicators: list[str]


class FormulaIn(Schema):
    formula: str


class FormulaOut(Schema):
    ok: bool
    canonical: str = ""
    references: list[str] = []
    is_condition: bool = False
    error: str = ""
    position: int | None = None


def _unit(request: AuthenticatedHttpRequest, code: str, action: Action) -> OrgUnit:
    unit = get_object_or_404(OrgUnit, code=code)
    policy.require(request.user, action, unit)
    return unit


def indicator_for(request: AuthenticatedHttpRequest, code: str) -> Indicator:
    """404 for an unknown code, 403 for one issued outside the caller's reach."""
    ind = get_object_or_404(
        Indicator.objects.select_related("issuer", "division", "record_type"), code=code
    )
    if not Indicator.objects.visible_to(request.user).filter(pk=ind.pk).exists():
        raise policy.PermissionDenied(
            _("indicator %(code)s is outside your units") % {"code": code}
        )
    return ind


def data_set_for(request: AuthenticatedHttpRequest, code: str) -> DataSet:
    ds = get_object_or_404(DataSet.objects.select_related("owner"), code=code)
    if not DataSet.objects.visible_to(request.user).filter(pk=ds.pk).exists():
        raise policy.PermissionDenied(_("data set %(code)s is outside your units") % {"code": code})
    return ds


def _division(code: str | None) -> OrgUnit | None:
    if not code:
        return None
    from duban.indicators.services import IndicatorError

    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise IndicatorError(_("unknown unit %(code)s") % {"code": repr(code)}, "division")
    return unit


def _record_type(code: str | None) -> object:
    """The record type a record indicator counts, by its code (None: not a record indicator).
    Read through the field: the records app sits above indicators."""
    if not code:
        return None
    from duban.indicators.services import IndicatorError

    model = Indicator._meta.get_field("record_type").related_model
    found = model._default_manager.filter(code=code).first()  # type: ignore[union-attr]
    if found is None:
        raise IndicatorError(
            _("unknown record type %(code)s") % {"code": repr(code)[:40]}, "record_type"
        )
    return found


@router.get("/indicators", response=list[IndicatorOut])
def list_indicators(request: AuthenticatedHttpRequest) -> list[IndicatorOut]:
    qs = Indicator.objects.visible_to(request.user).select_related(
        "issuer", "division", "record_type"
    )
    return [IndicatorOut.of(i) for i in qs[:2000]]


@router.get("/indicators/{code}", response=IndicatorOut)
def get_indicator(request: AuthenticatedHttpRequest, code: str) -> IndicatorOut:
    return IndicatorOut.of(indicator_for(request, code))


@router.post("/indicators", response={201: IndicatorOut})
def create_indicator(
    request: AuthenticatedHttpRequest, payload: IndicatorIn
) -> Status[IndicatorOut]:
    issuer = _unit(request, payload.issuer, Action.MANAGE_EVALUATION)
    data = payload.dict(exclude={"issuer", "division", "record_type"})
    ind = services.create_indicator(
        user=actor(request),
        issuer=issuer,
        division=_division(payload.division),
        record_type=_record_type(payload.record_type),
        **data,
    )
    return Status(201, IndicatorOut.of(ind))


@router.patch("/indicators/{code}", response=IndicatorOut)
def update_indicator(
    request: AuthenticatedHttpRequest, code: str, payload: IndicatorPatch
) -> IndicatorOut:
    ind = indicator_for(request, code)
    changes = patch_changes(payload, model=Indicator)
    if "division" in changes:
        changes["division"] = _division(changes["division"])
    if "record_type" in changes:
        changes["record_type"] = _record_type(changes["record_type"])
    ind = services.update_indicator(ind, user=actor(request), **changes)
    return IndicatorOut.of(ind)


@router.get("/datasets", response=list[DataSetOut])
def list_data_sets(request: AuthenticatedHttpRequest) -> list[DataSetOut]:
    qs = DataSet.objects.visible_to(request.user).select_related("owner")
    return [DataSetOut.of(d) for d in qs[:500]]


@router.get("/datasets/{code}", response=DataSetOut)
def get_data_set(request: AuthenticatedHttpRequest, code: str) -> DataSetOut:
    return DataSetOut.of(data_set_for(request, code))


@router.post("/datasets", response={201: DataSetOut})
def create_data_set(request: AuthenticatedHttpRequest, payload: DataSetIn) -> Status[DataSetOut]:
    owner = _unit(request, payload.owner, Action.MANAGE_EVALUATION)
    data = payload.dict(exclude={"owner"})
    ds = services.create_data_set(user=actor(request), owner=owner, **data)
    return Status(201, DataSetOut.of(ds))


@router.patch("/datasets/{code}", response=DataSetOut)
def update_data_set(
    request: AuthenticatedHttpRequest, code: str, payload: DataSetPatch
) -> DataSetOut:
    ds = data_set_for(request, code)
    ds = services.update_data_set(
        ds, user=actor(request), **payload.dict(exclude_unset=True, exclude_none=True)
    )
    return DataSetOut.of(ds)


@router.put("/datasets/{code}/indicators", response=DataSetOut)
def set_members(request: AuthenticatedHttpRequest, code: str, payload: MembersIn) -> DataSetOut:
    ds = data_set_for(request, code)
    services.set_members(ds, payload.indicators, user=actor(request))
    return DataSetOut.of(ds)


@router.post("/datasets/{code}/rules", response={201: RuleOut})
def add_rule(request: AuthenticatedHttpRequest, code: str, payload: RuleIn) -> Status[RuleOut]:
    ds = data_set_for(request, code)
    rule = services.add_rule(ds, user=actor(request), **payload.dict())
    return Status(
        201, RuleOut(id=rule.pk, name=rule.name, expression=rule.expression, message=rule.message)
    )


@router.delete("/datasets/{code}/rules/{pk}", response={204: None})
def delete_rule(request: AuthenticatedHttpRequest, code: str, pk: int) -> Status[None]:
    ds = data_set_for(request, code)
    rule = get_object_or_404(ValidationRule, pk=pk, data_set=ds)
    services.delete_rule(rule, user=actor(request))
    return Status(204, None)


@router.post("/formula/check", response=FormulaOut)
def check_formula(request: AuthenticatedHttpRequest, payload: FormulaIn) -> FormulaOut:
    """Parse a formula or rule as the office types it; says what is wrong and where."""
    try:
        f = parse_formula(payload.formula)
    except FormulaError as exc:
        return FormulaOut(ok=False, error=str(exc), position=exc.position)
    return FormulaOut(
        ok=True, canonical=str(f), references=sorted(f.references), is_condition=f.is_condition
    )
