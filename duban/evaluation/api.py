"""Evaluation routes under /api/evaluation/: the pages' data as JSON, explanations included.

Thin: fetch, authorise through ``access`` (which asks ``orgs.policy``), call one
service or ``scoring.score``, answer. Numbers are exact decimal strings.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from duban.core.patch import patch_changes
from duban.evaluation import access, exports, services
from duban.evaluation.engine import result_to_dict
from duban.evaluation.models import Objection, Publication, Scheme, SchemeItem
from duban.evaluation.scoring import score
from duban.orgs.models import OrgUnit
from duban.web import AuthenticatedHttpRequest, actor

router = Router(tags=["evaluation"])


def _scheme(request: AuthenticatedHttpRequest, code: str) -> tuple[Scheme, set[str]]:
    scheme = get_object_or_404(Scheme.objects.select_related("issuer", "based_on"), code=code)
    return scheme, access.require_view(request.user, scheme)


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


class SchemeOut(Schema):
    code: str
    name: str
    year: int
    issuer: str
    status: str
    based_on: str | None


@router.get("/schemes", response=list[SchemeOut])
def list_schemes(request: AuthenticatedHttpRequest) -> list[SchemeOut]:
    return [
        SchemeOut(
            code=s.code,
            name=s.name,
            year=s.year,
            issuer=s.issuer.code,
            status=s.status,
            based_on=s.based_on.code if s.based_on else None,
        )
        for s in access.visible_schemes(request.user)
    ]


@router.get("/schemes/{code}/scheme.yaml")
def scheme_yaml(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    scheme, _seen = _scheme(request, code)
    return HttpResponse(services.export_scheme_yaml(scheme), content_type="application/yaml")


class ImportIn(Schema):
    yaml: str


@router.post("/schemes", response={201: SchemeOut})
def import_scheme(request: AuthenticatedHttpRequest, body: ImportIn) -> Status[SchemeOut]:
    """Create a scheme from YAML text (or replace the draft of the same code)."""
    s = services.import_scheme_yaml(body.yaml, user=actor(request))
    return Status(
        201,
        SchemeOut(
            code=s.code,
            name=s.name,
            year=s.year,
            issuer=s.issuer.code,
            status=s.status,
            based_on=None,
        ),
    )


def _filtered(data: dict[str, Any], seen: set[str]) -> dict[str, Any]:
    data["units"] = [u for u in data["units"] if u["code"] in seen]
    data["problems"] = [p for p in data["problems"] if p["unit"] in seen]
    for cohort in data["cohorts"]:
        cohort["units"] = [c for c in cohort["units"] if c in seen]
    return data


@router.get("/schemes/{code}/scores")
def scores(
    request: AuthenticatedHttpRequest, code: str, period: str = "", lang: str = "zh"
) -> dict[str, Any]:
    """Every visible unit's result with item explanations, shortfalls and rank change."""
    scheme, seen = _scheme(request, code)
    scored = score(scheme, period or None)
    data = _filtered(result_to_dict(scored.result, _lang(lang)), seen)
    for unit in data["units"]:
        change = scored.changes.get(unit["code"])
        unit["previous_rank"] = change.previous if change else None
        unit["rank_change"] = change.delta if change else None
    return data


@router.get("/schemes/{code}/units/{unit}")
def unit_scores(
    request: AuthenticatedHttpRequest, code: str, unit: str, period: str = "", lang: str = "zh"
) -> dict[str, Any]:
    """One unit: items with explanations, shortfalls with room (上升空间), reconciliation."""
    scheme = get_object_or_404(Scheme.objects.select_related("issuer"), code=code)
    target = get_object_or_404(OrgUnit, code=unit)
    access.require_unit(request.user, scheme, target)
    scored = score(scheme, period or None)
    lg = _lang(lang)
    data = result_to_dict(scored.result, lg)
    found = next((u for u in data["units"] if u["code"] == unit), None)
    if found is None:
        from django.http import Http404

        raise Http404("not scored by this scheme")
    rows = list(exports.reconciliation_rows(scored.result, [unit], lg))
    found["reconciliation"] = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    change = scored.changes.get(unit)
    found["rank_change"] = change.delta if change else None
    found["period"] = data["period"]
    return found


@router.get("/schemes/{code}/reconciliation")
def reconciliation(
    request: AuthenticatedHttpRequest, code: str, period: str = "", lang: str = "zh"
) -> list[dict[str, Any]]:
    scheme, seen = _scheme(request, code)
    result = score(scheme, period or None, with_previous=False).result
    rows = list(
        exports.reconciliation_rows(result, [c for c in result.units if c in seen], _lang(lang))
    )
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


class ItemPatch(Schema):
    points: str | None = None
    target: str | None = None
    rule: dict[str, Any] | None = None
    rule_text: str | None = None
    targets: dict[str, str | None] | None = None


@router.patch("/schemes/{code}/items/{item}")
def patch_item(
    request: AuthenticatedHttpRequest, code: str, item: str, body: ItemPatch
) -> dict[str, Any]:
    """Edit a draft's item (what-if copies included); the published scheme is refused (409)."""
    scheme = get_object_or_404(Scheme.objects.select_related("issuer"), code=code)
    access.require_manage(request.user, scheme)
    row = get_object_or_404(SchemeItem, scheme=scheme, code=item)
    # `targets: null` changes nothing, as leaving it out; a null target removes the default.
    changes = patch_changes(body, model=SchemeItem, nullable=("targets",))
    targets = changes.pop("targets", None)
    if changes:
        services.update_item(row, user=actor(request), **changes)
    if targets is not None:
        services.set_targets(row, targets, user=actor(request))
    return {"code": item, "scheme": scheme.code}


@router.post("/schemes/{code}/copy", response={201: SchemeOut})
def copy(request: AuthenticatedHttpRequest, code: str) -> Status[SchemeOut]:
    scheme = get_object_or_404(Scheme.objects.select_related("issuer"), code=code)
    access.require_manage(request.user, scheme)
    c = services.copy_scheme_as_draft(scheme, user=actor(request))
    return Status(201, SchemeOut(
        code=c.code, name=c.name, year=c.year, issuer=c.issuer.code, status=c.status,
        based_on=scheme.code,
    ))  # fmt: skip


@router.get("/schemes/{code}/compare")
def compare(request: AuthenticatedHttpRequest, code: str, period: str = "") -> list[dict[str, Any]]:
    scheme = get_object_or_404(Scheme.objects.select_related("issuer", "based_on"), code=code)
    access.require_manage(request.user, scheme)
    return [
        {
            "unit": m.unit, "group": m.group, "total": str(m.total_before),
            "what_if_total": str(m.total_after), "rank": m.rank_before,
            "what_if_rank": m.rank_after, "grade": m.grade_before, "what_if_grade": m.grade_after,
        }
        for m in services.compare_what_if(scheme, period or None)
    ]  # fmt: skip


class PublishIn(Schema):
    period: str
    objection_deadline: date


class PublicationOut(Schema):
    id: int
    scheme: str
    period: str
    state: str
    objection_deadline: date


def _pub_out(p: Publication) -> PublicationOut:
    return PublicationOut(
        id=p.pk, scheme=p.scheme.code, period=p.period, state=p.state,
        objection_deadline=p.objection_deadline,
    )  # fmt: skip


@router.post("/schemes/{code}/publications", response={201: PublicationOut})
def publish(
    request: AuthenticatedHttpRequest, code: str, body: PublishIn
) -> Status[PublicationOut]:
    scheme = get_object_or_404(Scheme.objects.select_related("issuer"), code=code)
    access.require_manage(request.user, scheme)
    pub = services.publish_results(
        scheme, body.period, user=actor(request), objection_deadline=body.objection_deadline
    )
    return Status(201, _pub_out(pub))


@router.get("/publications/{pk}")
def publication(request: AuthenticatedHttpRequest, pk: int, lang: str = "zh") -> dict[str, Any]:
    """The results as published (frozen) and any difference with current approved data."""
    pub = get_object_or_404(Publication.objects.select_related("scheme__issuer"), pk=pk)
    seen = access.require_view(request.user, pub.scheme)
    lg = _lang(lang)
    return {
        **_pub_out(pub).dict(),
        "results": _filtered(dict(pub.snapshot_for(lg)), seen),
        "differences": [d.__dict__ for d in services.differences(pub, lg) if d.unit in seen],
        "objections": [
            {"id": o.pk, "unit": o.unit.code, "item": o.item, "text": o.text, "state": o.state,
             "ruling": o.ruling}
            for o in pub.objections.select_related("unit")
            if o.unit.code in seen or access.can_manage(request.user, pub.scheme)
        ],
    }  # fmt: skip


class ObjectionIn(Schema):
    unit: str
    text: str
    item: str = ""


@router.post("/publications/{pk}/objections", response={201: dict[str, Any]})
def lodge(request: AuthenticatedHttpRequest, pk: int, body: ObjectionIn) -> Status[dict[str, Any]]:
    pub = get_object_or_404(Publication.objects.select_related("scheme__issuer"), pk=pk)
    access.require_view(request.user, pub.scheme)
    unit = get_object_or_404(OrgUnit, code=body.unit)
    o = services.lodge_objection(
        pub, user=actor(request), unit=unit, text=body.text, item=body.item
    )
    return Status(201, {"id": o.pk, "state": o.state})


class RulingIn(Schema):
    upheld: bool
    reason: str


@router.post("/objections/{pk}/ruling")
def ruling(request: AuthenticatedHttpRequest, pk: int, body: RulingIn) -> dict[str, Any]:
    o = get_object_or_404(Objection.objects.select_related("publication__scheme__issuer"), pk=pk)
    access.require_manage(request.user, o.publication.scheme)
    o = services.rule_objection(o, user=actor(request), upheld=body.upheld, reason=body.reason)
    return {"id": o.pk, "state": o.state}


@router.post("/publications/{pk}/finalise", response=PublicationOut)
def finalise(request: AuthenticatedHttpRequest, pk: int) -> PublicationOut:
    pub = get_object_or_404(Publication.objects.select_related("scheme__issuer"), pk=pk)
    access.require_manage(request.user, pub.scheme)
    return _pub_out(services.finalise_publication(pub, user=actor(request)))
