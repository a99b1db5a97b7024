"""The world the every-route test walks: two organisations built by one function, so every
kind of object the site knows exists in the foreign one as in the home one.

The home organisation holds the personas; the foreign one (another tree) and the home
county's sibling hold what they must not reach. Every name in the foreign organisation
carries FOREIGN_MARK and every code starts with FOREIGN_CODE, so an answer that shows any of
its data is found by looking for those alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from duban.accounts.models import User
from duban.bulletins.models import Bulletin, DocumentKind, Series
from duban.evaluation import services as evaluation
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import Objection, Publication, Scheme
from duban.evaluation.tests.conftest import scheme_data
from duban.indicators import services as indicators
from duban.indicators.models import Indicator, ValidationRule
from duban.jobs.models import Job
from duban.meetings import services as meetings
from duban.orgs.models import Membership, OrgUnit
from duban.orgs.policy import SYSTEM
from duban.orgs.services import move_unit
from duban.records.models import RecordImport
from duban.reporting import services as reporting
from duban.reporting.models import DataValue, State
from duban.reporting.models import Evidence as FormEvidence
from duban.reporting.tests.conftest import put_figure
from duban.tasks import reminders
from duban.tasks import services as tasks
from duban.tasks.models import Evidence as TaskEvidence
from duban.tasks.tests.factories import make_milestone, make_task
from duban.testing import make_unit, make_user

TODAY = date(2017, 12, 20)
PERIOD = "201712"
FOREIGN_MARK = "外省"  # in every name of the foreign organisation
FOREIGN_CODE = "FRN"  # at the start of every code of the foreign organisation
SIBLING_MARK = "乙方"  # after the organisation's mark, in the texts of what county C2 owns
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Org:
    """One organisation: its units, people and one object of every kind (pks and codes)."""

    units: dict[str, OrgUnit]
    users: dict[str, User]
    data_set: str
    indicator: str
    scheme: str
    item: str
    publication: int
    objection: int
    task: int
    milestone: int
    report: int
    task_evidence: int
    reminder: int
    form_evidence: int
    lock_exception: int
    rule: int
    membership: int
    meeting: int
    matter: int
    bulletin: int
    job: str
    unit_move: int
    data_value: int
    sibling: dict[str, Any] = field(default_factory=dict)  # objects of county C2
    record_import: int = 0  # a file of business records for C2, waiting for a decision


def _units(code: str, mark: str) -> dict[str, OrgUnit]:
    root = make_unit(code, None, level="city", name_zh=f"{mark}市局", name_en=f"{code} city")
    c1 = make_unit(f"{code}-C1", root, name_zh=f"{mark}东县局", name_en=f"{code} east")
    c2 = make_unit(f"{code}-C2", root, name_zh=f"{mark}西县局", name_en=f"{code} west")
    s1 = make_unit(f"{code}-C1-S1", c1, level="station", name_zh=f"{mark}东关派出所")
    div = make_unit(
        f"{code}-DIV", root, level="city", kind="division", line="traffic",
        name_zh=f"{mark}交警支队",
    )  # fmt: skip
    return {"root": root, "c1": c1, "c2": c2, "s1": s1, "div": div}


ROLES_AT = {
    "root": ["system_admin", "security_admin", "audit_admin", "office", "reporter", "approver",
             "leader"],
    "c1": ["reporter", "approver", "leader", "office"],
    "c2": ["reporter", "leader"],
    "div": ["leader"],
}  # fmt: skip


def _users(code: str, mark: str, units: dict[str, OrgUnit]) -> dict[str, User]:
    users = {}
    for where, roles in ROLES_AT.items():
        for role in roles:
            name = f"{code.lower()}_{where}_{role}"
            who = f"{mark}{SIBLING_MARK}" if where == "c2" else mark
            users[f"{where}_{role}"] = make_user(
                name, units[where], role, full_name=f"{who}{where}{role}"
            )
    return users


def _reporting(code: str, mark: str, u: dict[str, OrgUnit]) -> tuple[Any, ...]:
    low = code.lower()
    made = [
        indicators.create_indicator(
            user=SYSTEM, issuer=u["root"], code=f"{low}.{name}", name_zh=f"{mark}{zh}",
            name_en=f"{code} {name}", value_type="integer", levels=["county", "station"],
            kinds=["territorial"], sort_order=n, line="traffic" if name == "crash" else "",
        )
        for n, (name, zh) in enumerate((("solved", "破案数"), ("poll", "民调"), ("crash", "事故")))
    ]  # fmt: skip
    ds = indicators.create_data_set(
        user=SYSTEM, owner=u["root"], code=f"{code}-M", name_zh=f"{mark}月报",
        name_en=f"{code} monthly", period_type="monthly", timely_days=5, expiry_days=0,
        indicators=[i.code for i in made],
    )  # fmt: skip
    rule = indicators.add_rule(
        ds, user=SYSTEM, name=f"{mark}规则", expression=f"{low}.solved >= 0", message="不为负"
    )
    reporting.open_period(ds, PERIOD, user=SYSTEM)
    own = f"{mark}{SIBLING_MARK}"
    for unit in (u["c1"], u["c2"], u["s1"]):
        for ind in made:
            note = f"{own}备注" if unit == u["c2"] else f"{mark}备注"
            put_figure(unit, ind, PERIOD, 7, State.DRAFT, note)
    sub = reporting.get_or_create_submission(ds, u["c2"], PERIOD)
    ev = reporting.attach_evidence(sub, f"{own}佐证.pdf", PDF, user=SYSTEM)
    exc = reporting.grant_lock_exception(ds, u["c2"], "201711", user=SYSTEM, reason=f"{own}例外")
    return made, ds, rule, ev, exc


def _evaluation(code: str, mark: str, u: dict[str, OrgUnit], made: list[Indicator]) -> Any:
    low = code.lower()
    data = scheme_data(issuer=code, members=(f"{code}-C1", f"{code}-C2"), code=f"{low}-2017")
    data["name"] = f"{mark}考评方案"
    data["items"][0]["indicator"] = made[0].code
    data["items"][0]["name"] = f"{mark}破案"
    data["items"][0]["target"] = {"default": Decimal(100)}
    data["items"][1]["indicator"] = made[1].code
    data["items"][1]["name"] = f"{mark}民调项"
    scheme = evaluation.save_engine_scheme(data_to_engine(data), user=SYSTEM)
    evaluation.publish_scheme(scheme, user=SYSTEM)
    for unit in (u["c1"], u["c2"]):
        for ind in made[:2]:
            put_figure(unit, ind, "201703", 30, State.APPROVED)
    pub = evaluation.publish_results(
        scheme, "2017Q1", user=SYSTEM, objection_deadline=date(2030, 1, 1)
    )
    own = f"{mark}{SIBLING_MARK}"
    objection = evaluation.lodge_objection(
        pub, user=SYSTEM, unit=u["c2"], text=f"{own}异议", evidence=(f"{own}异议.pdf", PDF)
    )
    return scheme, pub, objection


def _tasks(mark: str, u: dict[str, OrgUnit]) -> tuple[Any, ...]:
    own = f"{mark}{SIBLING_MARK}"
    task = make_task(u["root"], u["c2"], title=f"{own}重点工作", responsible=f"{own}负责人")
    milestone = make_milestone(task, date(2017, 12, 25), title=f"{own}节点")
    report = tasks.submit_report(
        task, user=SYSTEM, unit=u["c2"], text=f"{own}进展", percent=40, today=TODAY,
        files=[SimpleUploadedFile(f"{own}材料.pdf", PDF, "application/pdf")],
    )  # fmt: skip
    evidence = TaskEvidence.objects.filter(report=report).get()
    reminder = reminders.remind_now(task, user=SYSTEM, today=TODAY)
    return task, milestone, report, evidence, reminder


def _meetings(mark: str, u: dict[str, OrgUnit]) -> tuple[Any, ...]:
    meeting = meetings.create_meeting(
        u["root"], user=SYSTEM, kind="dispatch", title=f"{mark}调度会", held_on=date(2017, 12, 8),
        participants=[u["c1"], u["c2"]],
    )  # fmt: skip
    matter = meetings.decide(
        meeting, user=SYSTEM, text=f"{mark}议定事项", lead_unit=u["c2"],
        due_date=date(2017, 12, 31), supervise=False,
    )  # fmt: skip
    meetings.set_cadence(u["root"], "monthly_study", user=SYSTEM, since=date(2017, 1, 1))
    return meeting, matter


def _bulletin(code: str, mark: str, u: dict[str, OrgUnit], scheme: Scheme) -> Bulletin:
    series = Series.objects.create(
        issuer=u["root"], kind=DocumentKind.MONTHLY, authority=f"{mark}改革办",
        prefix=f"{mark}通", addressees=f"{mark}各县局", scheme=scheme, progress_item="solved",
    )  # fmt: skip
    return Bulletin.objects.create(
        series=series, issuer=u["root"], kind=DocumentKind.MONTHLY, period="201711",
        title=f"{mark}工作通报", date_written=TODAY, generated_at=timezone.now(),
    )  # fmt: skip


def build_org(code: str, mark: str) -> Org:
    """One organisation with one object of every kind, the sibling county C2 owning those a
    unit owns (its figures, its form's evidence, its task, its objection)."""
    u = _units(code, mark)
    people = _users(code, mark, u)
    made, ds, rule, form_ev, exc = _reporting(code, mark, u)
    scheme, pub, objection = _evaluation(code, mark, u, made)
    task, milestone, report, task_ev, reminder = _tasks(mark, u)
    meeting, matter = _meetings(mark, u)
    bulletin = _bulletin(code, mark, u, scheme)
    move = move_unit(u["s1"], u["c2"], user=SYSTEM, reason=f"{mark}调整")
    job = Job.objects.create(
        kind="tasks.ledger_export",
        label=f"{mark}{SIBLING_MARK}导出",
        owner=people["c2_reporter"],
        unit=u["c2"],
    )
    return Org(
        units=u,
        users=people,
        data_set=ds.code,
        indicator=made[0].code,
        scheme=scheme.code,
        item="solved",
        publication=pub.pk,
        objection=objection.pk,
        task=task.pk,
        milestone=milestone.pk,
        report=report.pk,
        task_evidence=task_ev.pk,
        reminder=reminder.pk,
        form_evidence=form_ev.pk,
        lock_exception=exc.pk,
        rule=rule.pk,
        membership=Membership.objects.get(user=people["c2_reporter"]).pk,
        meeting=meeting.pk,
        matter=matter.pk,
        bulletin=bulletin.pk,
        job=str(job.pk),
        unit_move=move.pk,
        data_value=DataValue.objects.filter(unit=u["c2"]).values_list("pk", flat=True)[0],
        record_import=RecordImport.objects.create(
            file_name=f"{mark}{SIBLING_MARK}记录.csv",
            sha256="0" * 64,
            file_format="csv",
            unit=u["c2"],
        ).pk,
    )


def check_kinds(org: Org) -> None:
    """Each object was made (a factory that silently made nothing would weaken the walk)."""
    assert Publication.objects.filter(pk=org.publication).exists()
    assert Objection.objects.filter(pk=org.objection).exists()
    assert FormEvidence.objects.filter(pk=org.form_evidence).exists()
    assert ValidationRule.objects.filter(pk=org.rule).exists()
    assert Indicator.objects.filter(code=org.indicator).exists()
    assert org.task and org.meeting and org.bulletin
