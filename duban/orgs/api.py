"""Organisation tree routes. Thin: authorise with the policy, call a service, answer."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from duban.orgs import policy, services, treefile
from duban.orgs.models import OrgUnit, UnitMove
from duban.orgs.policy import Action
from duban.web import AuthenticatedHttpRequest, actor, read_upload, unit_or_403

router = Router(tags=["organisation"])


class UnitOut(Schema):
    code: str
    name_zh: str
    name_en: str
    level: str
    kind: str
    parent: str | None
    path: str
    depth: int
    sort_order: int
    is_active: bool
    children: int = 0

    @staticmethod
    def of(unit: OrgUnit, children: int = 0) -> UnitOut:
        return UnitOut(
            code=unit.code,
            name_zh=unit.name_zh,
            name_en=unit.name_en,
            level=unit.level,
            kind=unit.kind,
            parent=unit.parent.code if unit.parent else None,
            path=unit.path,
            depth=unit.depth,
            sort_order=unit.sort_order,
            is_active=unit.is_active,
            children=children,
        )


class UnitCreate(Schema):
    code: str
    parent: str
    name_zh: str
    name_en: str = ""
    level: str
    kind: str
    sort_order: int = 0


class UnitPatch(Schema):
    name_zh: str | None = None
    name_en: str | None = None
    level: str | None = None
    kind: str | None = None
    sort_order: int | None = None
    is_active: bool | None = None


class MoveIn(Schema):
    parent: str
    reason: str


class MoveOut(Schema):
    unit: str
    old_path: str
    new_path: str
    reason: str


class ImportOut(Schema):
    created: int
    updated: int
    moved: int
    unchanged: int


UNIT_FIELDS = ("code", "name_zh", "name_en", "level", "kind", "parent__code", "path", "depth",
               "sort_order", "is_active")  # fmt: skip
MAX_PAGE = 2000


@router.get("/units", response=list[UnitOut])
def list_units(
    request: AuthenticatedHttpRequest,
    under: str | None = None,
    q: str = "",
    limit: int = Query(500, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> list[UnitOut]:
    """Units the caller may see, in tree order, a page at a time (`limit` from `offset`);
    `under` limits to one subtree, `q` searches code and names."""
    units = policy.visible_units(actor(request))
    if under:
        units = units.subtree_of(unit_or_403(request, under, Action.VIEW_UNIT))
    if q:
        from django.db.models import Q

        units = units.filter(
            Q(code__icontains=q) | Q(name_zh__icontains=q) | Q(name_en__icontains=q)
        )
    rows = units.order_by("path").values(*UNIT_FIELDS)[offset : offset + limit]
    return [UnitOut(**{k: v for k, v in r.items() if k != "parent__code"}, parent=r["parent__code"])
            for r in rows]  # fmt: skip


@router.get("/units/{code}", response=UnitOut)
def unit_detail(request: AuthenticatedHttpRequest, code: str) -> UnitOut:
    unit = unit_or_403(request, code, Action.VIEW_UNIT)
    return UnitOut.of(unit, children=unit.children.count())


@router.get("/units/{code}/children", response=list[UnitOut])
def unit_children(request: AuthenticatedHttpRequest, code: str) -> list[UnitOut]:
    unit = unit_or_403(request, code, Action.VIEW_UNIT)
    return [
        UnitOut.of(c) for c in unit.children.select_related("parent").order_by("sort_order", "code")
    ]


@router.post("/units", response={201: UnitOut})
def create_unit(request: AuthenticatedHttpRequest, payload: UnitCreate) -> Status[UnitOut]:
    parent = unit_or_403(request, payload.parent, Action.EDIT_TREE)
    data = payload.dict(exclude={"parent"})
    unit = services.create_unit(user=actor(request), parent=parent, **data)
    return Status(201, UnitOut.of(unit))


@router.patch("/units/{code}", response=UnitOut)
def update_unit(request: AuthenticatedHttpRequest, code: str, payload: UnitPatch) -> UnitOut:
    unit = unit_or_403(request, code, Action.EDIT_TREE)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    unit = services.update_unit(unit, user=actor(request), **changes)
    return UnitOut.of(unit)


@router.post("/units/{code}/move", response=MoveOut)
def move_unit(request: AuthenticatedHttpRequest, code: str, payload: MoveIn) -> MoveOut:
    unit = unit_or_403(request, code, Action.EDIT_TREE)
    parent = unit_or_403(request, payload.parent, Action.EDIT_TREE)
    move = services.move_unit(unit, parent, user=actor(request), reason=payload.reason)
    return MoveOut(
        unit=unit.code, old_path=move.old_path, new_path=move.new_path, reason=move.reason
    )


@router.get("/units/{code}/moves", response=list[MoveOut])
def unit_moves(request: AuthenticatedHttpRequest, code: str) -> list[MoveOut]:
    unit = unit_or_403(request, code, Action.VIEW_UNIT)
    return [
        MoveOut(unit=unit.code, old_path=m.old_path, new_path=m.new_path, reason=m.reason)
        for m in UnitMove.objects.filter(unit=unit)
    ]


@router.get("/tree.{fmt}")
def export_tree(
    request: AuthenticatedHttpRequest, fmt: str, under: str | None = None
) -> HttpResponseBase:
    """The visible tree (or one subtree) as CSV or YAML, ready to edit and import again."""
    units = policy.visible_units(actor(request))
    if under:
        units = units.subtree_of(unit_or_403(request, under, Action.VIEW_UNIT))
    if fmt == "csv":  # streamed as read: the national tree is 4.7 MB
        return StreamingHttpResponse(
            treefile.csv_lines(units), content_type="text/csv; charset=utf-8"
        )
    if fmt in ("yaml", "yml"):
        return HttpResponse(treefile.to_yaml(units), content_type="application/yaml; charset=utf-8")
    return HttpResponse(status=404)


@router.post("/tree/import", response=ImportOut)
def import_tree(
    request: AuthenticatedHttpRequest,
    file: UploadedFile = File(...),
    format: str = Form("csv"),
) -> ImportOut:
    """Create or update units from a file; every bad row is reported and nothing is imported."""
    if not policy.can_any(actor(request), Action.EDIT_TREE):
        raise policy.PermissionDenied(_("tree import needs a system administrator"))
    summary = treefile.import_tree(read_upload(file), format, user=actor(request))
    return ImportOut(**summary.__dict__)
