"""Demo meetings: Yongzhou's monthly video dispatch meetings with decided matters, and the
Shaanxi department's monthly study, bulletin and quarterly review. Invented, and marked so."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from duban.audit.context import acting_as
from duban.meetings import services
from duban.meetings.models import Mechanism, Meeting, MeetingKind
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.periods import PeriodType, period_containing
from duban.tasks import services as task_services
from duban.tasks.demo import INVENTED_NOTE, Event, add_months, demo_start, replay

YZ_COUNTIES = [
    "YZ-LST",
    "YZ-LL",
    "YZ-QY",
    "YZ-DA",
    "YZ-SP",
    "YZ-DX",
    "YZ-JY",
    "YZ-NY",
    "YZ-LS",
    "YZ-XT",
    "YZ-JH",
    "YZ-HLX",
    "YZ-JD",
]
YZ_DIVISIONS = ["YZ-JLB", "YZ-GJB", "YZ-JJZD", "YZ-XZZD", "YZ-ZAZD", "YZ-JDZD"]
# (decision, lead unit, days to complete, days late when done; None: still open)
DECISIONS = [
    [
        ("集打斗争：各县区本月破案数不低于上月，落后单位写出书面说明", "YZ-XZZD", 25, 0),
        ("黄标车治理：月底前完成剩余车辆淘汰", "YZ-JJZD", 20, 6),
    ],
    [
        ("追逃攻坚：列为目标逃犯的一律落实专人专案", "YZ-LST", 30, -2),
        ("民调排名：组织开展群众安全感满意度入户走访", "YZ-GJB", 25, None),
    ],
    [
        ("对照全省考评细则逐项梳理短板，形成分析报告", "YZ-GJB", 15, 0),
        ("禁毒整治：零陵区毒品案件查处数落后，限期追赶", "YZ-LL", 30, None),
    ],
    [
        ("年终冲刺：逐项对账、收官对账", "YZ-GJB", 40, None),
        ("苗头性、倾向性问题露头就抓，开展队伍纪律作风整顿", "YZ-JLB", 20, None),
    ],
]


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


@transaction.atomic
def load_meetings_demo(today: date | None = None) -> int:
    """Load the demo meetings (and their tasks); returns the meetings created (0 if loaded)."""
    today = today or task_services.today_local()
    yz, sx = unit("YZ"), unit("SX")
    if Meeting.objects.filter(unit__in=[yz, sx], agenda__contains="演示数据，内容虚构").exists():
        return 0
    created = 0
    events: list[Event] = []
    first = add_months(today.replace(day=1), -len(DECISIONS))
    with acting_as(source="duban demo", reason="演示数据（虚构）"):
        for i, decisions in enumerate(DECISIONS):
            held = add_months(first, i) + timedelta(days=7)
            if held > today:
                continue
            meeting = services.create_meeting(
                yz,
                user=SYSTEM,
                kind=MeetingKind.DISPATCH,
                held_on=held,
                title=f"全市公安机关视频调度会（{held.month}月）",
                main_venue="市局指挥中心",
                branch_venues="\n".join(f"{unit(c).name_zh}分会场" for c in YZ_COUNTIES),
                participants=[unit(c) for c in YZ_COUNTIES + YZ_DIVISIONS],
                agenda="一、各县区局汇报集打斗争、追逃、黄标车治理情况\n二、各警种通报全市面上情况\n"
                f"三、绩效考评讲评\n四、局长讲话\n{INVENTED_NOTE}",
                minutes=f"会议听取了各县区局和警种部门汇报，议定事项如下。{INVENTED_NOTE}"
                if held < today
                else "",
            )
            created += 1
            for text, lead, days, late in decisions:  # type: ignore[attr-defined]
                matter = services.decide(
                    meeting,
                    user=SYSTEM,
                    text=text,
                    lead_unit=unit(lead),
                    due_date=held + timedelta(days=days),
                    responsible="分管副局长",
                )
                task = matter.task
                assert task is not None
                mid = held + timedelta(days=days // 2)
                if mid <= today:
                    events.append(
                        (
                            mid,
                            1,
                            lambda d, t=task: task_services.submit_report(  # type: ignore[misc]
                                t,
                                user=SYSTEM,
                                text=f"正在落实。{INVENTED_NOTE}",
                                percent=50,
                                today=d,
                            ),
                        )
                    )
                if late is not None:
                    done = matter.due_date + timedelta(days=late)
                    if done <= today:
                        events.append(
                            (
                                done,
                                3,
                                lambda d, t=task: task_services.declare_done(
                                    t, user=SYSTEM, today=d
                                ),  # type: ignore[misc]
                            )
                        )
                        if done + timedelta(days=3) <= today:
                            events.append(
                                (
                                    done + timedelta(days=3),
                                    4,
                                    lambda d, t=task: task_services.close_task(  # type: ignore[misc]
                                        t, user=SYSTEM, today=d
                                    ),
                                )
                            )
        # the Shaanxi department's recurring mechanisms (seed 004)
        start = demo_start(today)
        for mech in Mechanism:
            services.set_cadence(sx, mech, user=SYSTEM, since=start)
        for n in range(0, 7):
            month_start = add_months(start, n)
            if n in (3,):  # one monthly study missed, on purpose
                continue
            held = month_start + timedelta(days=24)
            if held <= today:
                services.create_meeting(
                    sx,
                    user=SYSTEM,
                    kind=MeetingKind.MONTHLY_STUDY,
                    held_on=held,
                    title=f"厅党委重点亮点工作月度研究（{held.month}月）",
                    main_venue="省厅会议室",
                    agenda=INVENTED_NOTE,
                )
                created += 1
            bulletin = month_start + timedelta(days=4)
            if bulletin <= today and n != 5:
                p = period_containing(PeriodType.MONTHLY, month_start)
                services.record_held(
                    sx,
                    Mechanism.MONTHLY_BULLETIN,
                    p.id,
                    user=SYSTEM,
                    held_on=bulletin,
                    reference=f"陕公改通〔{bulletin.year}〕{n + 1}号（演示）",
                )
        review = add_months(start, 3) + timedelta(days=10)
        if review <= today:
            services.create_meeting(
                sx,
                user=SYSTEM,
                kind=MeetingKind.QUARTERLY_REVIEW,
                held_on=review,
                title="重点亮点工作季度点评",
                main_venue="省厅主会场",
                agenda=INVENTED_NOTE,
            )
            created += 1
        half_year = add_months(start, 6) + timedelta(days=2)
        if half_year <= today:
            services.create_meeting(
                sx,
                user=SYSTEM,
                kind=MeetingKind.CONFERENCE,
                held_on=half_year,
                title="全省公安机关上半年重点亮点工作推进电视电话会议",
                main_venue="省厅主会场",
                branch_venues="各市（区）公安局分会场\n各县（区）公安局分会场",
                participants=list(OrgUnit.objects.filter(parent=sx)),
                agenda=INVENTED_NOTE,
            )
            created += 1
        replay(events, first, today)
    return created
