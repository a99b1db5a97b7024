"""Meeting routes under /api/meetings/. Thin: authorise with the policy, call a service, answer."""

from __future__ import annotations

from datetime import date, datetime

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from duban.errors import DubanError, Problem
from duban.meetings import services
from duban.meetings.agenda import build_pack
from duban.meetings.cadence import cadence_table
from duban.meetings.models import DecidedMatter, Meeting
from duban.orgs import policy
from duban.orgs.models import OrgUnit
from duban.orgs.policy import Action
from duban.tasks.schemas import LedgerOut
from duban.tasks.services import today_local
from duban.web import AuthenticatedHttpRequest, actor

router = Router(tags=["meetings"])


def _units(codes: list[str], where: str) -> list[OrgUnit]:
    units = list(OrgUnit.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {u.code for u in units})
    if missing:
        raise DubanError(
            [Problem(where, _("no unit has the code %(c)s") % {"c": c}) for c in missing]
        )
    return units


class MeetingIn(Schema):
    unit: str
    kind: str
    title: str
    held_on: date
    main_venue: str = ""
    branch_venues: list[str] = []
    participants: list[str] = []
    agenda: str = ""


class MeetingPatch(Schema):
    """Only the fields sent change; none may be null (see services.refuse_nulls)."""

    kind: str | None = None
    title: str | None = None
    held_on: date | None = None
    main_venue: str | None = None
    branch_venues: list[str] | None = None
    participants: list[str] | None = None
    agenda: str | None = None
    minutes: str | None = None


class DecisionOut(Schema):
    id: int
    seq: int
    text: str
    lead_unit: str
    due_date: date
    task: int | None

    @staticmethod
    def of(d: DecidedMatter) -> DecisionOut:
        return DecisionOut(
            id=d.pk,
            seq=d.seq,
            text=d.text,
            lead_unit=d.lead_unit.code,
            due_date=d.due_date,
            task=d.task_id,
        )


class MeetingOut(Schema):
    id: int
    unit: str
    kind: str
    title: str
    held_on: date
    main_venue: str
    branch_venues: list[str]
    participants: list[str]
    agenda: str
    minutes: str
    decisions: list[DecisionOut]

    @staticmethod
    def of(m: Meeting) -> MeetingOut:
        return MeetingOut(
            id=m.pk,
            unit=m.unit.code,
            kind=m.kind,
            title=m.title,
            held_on=m.held_on,
            main_venue=m.main_venue,
            branch_venues=m.branch_venue_list,
            participants=[p.unit.code for p in m.participants.select_related("unit")],
            agenda=m.agenda,
            minutes=m.minutes,
            decisions=[DecisionOut.of(d) for d in m.decisions.select_related("lead_unit")],
        )


class DecisionIn(Schema):
    text: str
    lead_unit: str
    due_date: date
    supervise: bool = True
    partners: list[str] = []
    responsible: str = ""


class ShortfallOut(Schema):
    task: int
    milestone: int
    lead_unit: str
    due_date: date
    missed: bool
    days_late: int


class AgendaOut(Schema):
    meeting: int
    since: date
    as_of: date
    figures: list[dict[str, object]]  # one row per unit: {"unit": code, "<indicator>": figure, …}
    figure_periods: list[str]
    figures_as_of: datetime | None = None  # kept on the meeting's day; None: live
    red: list[LedgerOut]
    yellow: list[LedgerOut]
    to_verify: list[LedgerOut]
    units_behind: list[dict[str, object]]
    shortfalls: list[ShortfallOut]
    open_supervision_orders: list[int]
    open_decisions: list[int]
    reports_since: int


class CadenceCellOut(Schema):
    period: str
    state: str
    held_on: date | None
    reference: str


class CadenceOut(Schema):
    mechanism: str
    since: date
    cells: list[CadenceCellOut]


class HeldIn(Schema):
    mechanism: str
    period: str
    held_on: date
    reference: str = ""


class CadenceIn(Schema):
    mechanism: str
    since: date
    active: bool = True


@router.get("/meetings", response=list[MeetingOut])
def list_meetings(request: AuthenticatedHttpRequest, unit: str = "") -> list[MeetingOut]:
    meetings = services.visible_meetings(request.user).select_related("unit")
    if unit:
        meetings = meetings.filter(unit__code=unit)
    return [MeetingOut.of(m) for m in meetings[:500]]


@router.post("/meetings", response={201: MeetingOut})
def create_meeting(request: AuthenticatedHttpRequest, payload: MeetingIn) -> Status[MeetingOut]:
    data = payload.dict()
    unit = OrgUnit.objects.filter(code=data.pop("unit")).first()
    if unit is None:
        raise DubanError(_("no unit has this code"), "unit")
    participants = _units(data.pop("participants"), "participants")
    data["branch_venues"] = "\n".join(data["branch_venues"])
    m = services.create_meeting(unit, user=actor(request), participants=participants, **data)
    return Status(201, MeetingOut.of(m))


@router.get("/meetings/{pk}", response=MeetingOut)
def meeting_detail(request: AuthenticatedHttpRequest, pk: int) -> MeetingOut:
    return MeetingOut.of(services.meeting_or_403(request.user, pk))


@router.patch("/meetings/{pk}", response=MeetingOut)
def update_meeting(request: AuthenticatedHttpRequest, pk: int, payload: MeetingPatch) -> MeetingOut:
    meeting = services.meeting_or_403(request.user, pk)
    data = payload.dict(exclude_unset=True)
    # Before the lists are turned into text and units: a null there would read as "clear".
    services.refuse_nulls(data)
    participants = (
        _units(data.pop("participants"), "participants") if "participants" in data else None
    )
    if "branch_venues" in data:
        data["branch_venues"] = "\n".join(data["branch_venues"])
    m = services.update_meeting(meeting, user=actor(request), participants=participants, **data)
    return MeetingOut.of(m)


@router.get("/meetings/{pk}/agenda", response=AgendaOut)
def agenda(request: AuthenticatedHttpRequest, pk: int) -> AgendaOut:
    """The agenda pack, built from the data as of the meeting day (or today, if it is still to come)."""
    pack = build_pack(services.meeting_or_403(request.user, pk), today_local(), viewer=request.user)
    return AgendaOut(
        meeting=pk,
        since=pack.since,
        as_of=pack.as_of,
        figures=[
            {
                "unit": row.unit.code,
                **{i.code: (None if v is None else str(v)) for i, v in row.cells},
            }
            for row in (pack.figures.rows if pack.figures else [])
        ],
        figure_periods=pack.figures.periods if pack.figures else [],
        figures_as_of=pack.figures_as_of,
        red=[LedgerOut.of(r) for r in pack.red],
        yellow=[LedgerOut.of(r) for r in pack.yellow],
        to_verify=[LedgerOut.of(r) for r in pack.to_verify],
        units_behind=[
            {
                "unit": s.unit.code,
                "red": s.red,
                "yellow": s.yellow,
                "tasks": s.total,
                "on_time": s.on_time,
                "judged": s.judged,
            }
            for s in pack.units_behind
        ],
        shortfalls=[
            ShortfallOut(
                task=s.milestone.task_id,
                milestone=s.milestone.pk,
                lead_unit=s.milestone.task.lead_unit.code,
                due_date=s.milestone.due_date,
                missed=s.missed,
                days_late=s.days_late,
            )
            for s in pack.shortfalls
        ],
        open_supervision_orders=[r.pk for r in pack.open_orders],
        open_decisions=[m.pk for m, _ in pack.open_matters],
        reports_since=pack.reports_since,
    )


@router.post("/meetings/{pk}/decisions", response={201: DecisionOut})
def decide(request: AuthenticatedHttpRequest, pk: int, payload: DecisionIn) -> Status[DecisionOut]:
    """Record a decided matter; with `supervise` (default) it becomes a task in the same step."""
    meeting = services.meeting_or_403(request.user, pk)
    if not services.can_manage(actor(request), meeting):
        raise policy.PermissionDenied(_("only the convening unit's office records decisions"))
    lead = OrgUnit.objects.filter(code=payload.lead_unit).first()
    if lead is None:
        raise DubanError(_("no unit has this code"), "lead_unit")
    d = services.decide(
        meeting,
        user=actor(request),
        text=payload.text,
        lead_unit=lead,
        due_date=payload.due_date,
        supervise=payload.supervise,
        partners=_units(payload.partners, "partners"),
        responsible=payload.responsible,
    )
    return Status(201, DecisionOut.of(d))


@router.post("/decisions/{pk}/supervise", response=DecisionOut)
def supervise(request: AuthenticatedHttpRequest, pk: int) -> DecisionOut:
    matter = get_object_or_404(DecidedMatter, pk=pk)
    services.meeting_or_403(request.user, matter.meeting_id)
    services.supervise_matter(matter, user=actor(request))
    return DecisionOut.of(DecidedMatter.objects.select_related("lead_unit").get(pk=pk))


def _unit(request: AuthenticatedHttpRequest, code: str, action: Action) -> OrgUnit:
    unit = get_object_or_404(OrgUnit, code=code)
    policy.require(request.user, action, unit)
    return unit


@router.get("/units/{code}/cadence", response=list[CadenceOut])
def cadence(
    request: AuthenticatedHttpRequest, code: str, year: int | None = None
) -> list[CadenceOut]:
    unit = _unit(request, code, Action.VIEW_DATA)
    today = today_local()
    year = year or today.year
    if not 2000 <= year <= 2100:
        raise DubanError(_("a year between 2000 and 2100"), "year")
    return [
        CadenceOut(
            mechanism=line.cadence.mechanism,
            since=line.cadence.since,
            cells=[
                CadenceCellOut(
                    period=c.period.id, state=c.state, held_on=c.held_on, reference=c.reference
                )
                for c in line.cells
            ],
        )
        for line in cadence_table(unit, year, today)
    ]


@router.put("/units/{code}/cadence", response=CadenceOut)
def set_cadence(request: AuthenticatedHttpRequest, code: str, payload: CadenceIn) -> CadenceOut:
    unit = _unit(request, code, Action.MANAGE_EVALUATION)
    c = services.set_cadence(
        unit,
        payload.mechanism,
        user=actor(request),
        since=payload.since,
        active=payload.active,
    )
    return CadenceOut(mechanism=c.mechanism, since=c.since, cells=[])


@router.post("/units/{code}/cadence/held", response={201: CadenceCellOut})
def record_held(
    request: AuthenticatedHttpRequest, code: str, payload: HeldIn
) -> Status[CadenceCellOut]:
    unit = _unit(request, code, Action.MANAGE_EVALUATION)
    r = services.record_held(
        unit,
        payload.mechanism,
        payload.period,
        user=actor(request),
        held_on=payload.held_on,
        reference=payload.reference,
    )
    return Status(
        201, CadenceCellOut(period=r.period, state="held", held_on=r.held_on, reference=r.reference)
    )
