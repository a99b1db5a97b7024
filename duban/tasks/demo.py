"""Demo key tasks and highlight work of the Shaanxi department. Invented, and marked so.

The demo year runs from the first of the month six months ago, so that every
time it is loaded the board looks as it would at the half-year conference of
seed 004: some tasks green, some behind, some red, one done awaiting the check,
one closed off the ledger and reopened. Events are replayed day by day with
the daily reminder pass, so reminders and supervision orders appear when they
would have. Given the same day, the result is the same; loading twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.test import override_settings

from duban.audit.context import acting_as
from duban.orgs.models import OrgUnit
from duban.orgs.policy import SYSTEM
from duban.tasks import services
from duban.tasks.models import Task, TaskKind
from duban.tasks.reminders import daily_pass
from duban.tasks.status import elapsed_share

DEMO_TAG = "演示数据"
INVENTED_NOTE = "【演示数据，内容虚构】"

Event = tuple[date, int, Callable[[date], Any]]


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def demo_start(today: date) -> date:
    return add_months(today.replace(day=1), -6)


def month_end(start: date, n: int) -> date:
    """The last day of the n-th month of the demo year (n from 1)."""
    return add_months(start, n) - timedelta(days=1)


@dataclass
class Plan:
    title: str
    lead: str
    kind: str = TaskKind.KEY_TASK
    partners: tuple[str, ...] = ()
    responsible: str = ""
    expected: str = ""
    pace: float = 1.0  # progress reported relative to the time elapsed
    # (month of the demo year, milestone, deliverable, days late when met; None: not met)
    milestones: tuple[tuple[int, str, str, int | None], ...] = ()
    silent_from: int | None = None  # the lead unit stops reporting from this month
    outcome: str = ""  # "", "done", "closed_reopened"
    tags: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


KEY_TASKS = [
    Plan(
        "深化公安改革“三年三步走”第二步",
        "SX-GGB",
        partners=("SX-XZZD", "SX-ZAZD"),
        responsible="厅改革办主任",
        expected="完成年度改革任务清单，形成可复制经验",
        pace=1.05,
        tags="公安改革",
        milestones=(
            (2, "制定年度改革任务清单", "任务清单（厅党委审定）", -3),
            (5, "中期评估", "评估报告", 0),
            (9, "改革试点验收", "验收意见", None),
            (12, "年度总结", "总结报告", None),
        ),
    ),
    Plan(
        "刑侦“破小案”专项行动",
        "SX-XZZD",
        partners=("SX-XA", "SX-BJ"),
        responsible="刑侦总队副总队长",
        expected="侵财类案件破案率同比提升",
        pace=0.95,
        tags="打击犯罪",
        milestones=(
            (3, "部署动员、建立台账", "实施方案", 0),
            (5, "集中攻坚第一阶段", "阶段战果统计", 9),
            (8, "集中攻坚第二阶段", "阶段战果统计", None),
            (12, "总结评估", "总结报告", None),
        ),
    ),
    Plan(
        "智慧交管平台建设",
        "SX-JJZD",
        responsible="交警总队科技处长",
        expected="全省高速公路视频联网率达到95%",
        pace=0.55,
        tags="科技强警",
        silent_from=5,
        milestones=(
            (2, "完成需求调研", "需求报告", 0),
            (4, "完成招标采购", "中标通知书", None),
            (8, "一期上线运行", "上线报告", None),
            (12, "全省联网", "验收报告", None),
        ),
    ),
    Plan(
        "立体化社会治安防控体系建设",
        "SX-ZAZD",
        partners=("SX-XY",),
        responsible="治安总队总队长",
        expected="建成示范街面警务站20个",
        pace=1.0,
        outcome="closed_reopened",
        tags="治安防控",
        milestones=((2, "制定建设标准", "建设标准", 0), (4, "示范站建成", "验收清单", -5)),
    ),
    Plan(
        "全省公安“网上办事大厅”",
        "SX-GGB",
        responsible="厅改革办副主任",
        expected="80项服务事项网上可办",
        pace=1.0,
        outcome="done",
        tags="放管服",
        milestones=((2, "梳理事项清单", "事项清单", 0), (5, "系统上线试运行", "试运行报告", -2)),
    ),
    Plan(
        "执法办案管理中心建设",
        "SX-XA",
        partners=("SX-BJ", "SX-XY"),
        responsible="西安市局法制支队长",
        expected="市县两级执法办案管理中心全覆盖",
        pace=0.8,
        tags="执法规范化",
        milestones=(
            (3, "选址和设计", "设计方案", 2),
            (6, "主体建设完成", "验收报告", None),
            (10, "全面投入使用", "运行报告", None),
        ),
    ),
]

HIGHLIGHTS = [
    ("SX-XA", "“一村一警”全覆盖", 1.05),
    ("SX-BJ", "智慧安防小区建设", 0.9),
    ("SX-XY", "警务大数据实战应用", 1.0),
    ("SX-TC", "矛盾纠纷多元化解", 0.6),
    ("SX-WN", "交通安全综合治理", 1.0),
    ("SX-YA", "红色旅游景区安保", 1.1),
    ("SX-HZ", "禁毒示范城市创建", 0.75),
    ("SX-YL", "能源企业内保规范化", 1.0),
    ("SX-AK", "移民搬迁社区警务", 0.7),
    ("SX-SL", "秦岭生态环境保护执法", 1.0),
]


def highlight_plan(i: int, lead: str, title: str, pace: float) -> Plan:
    """Ten cities, deterministic variety: late milestones where the pace is low."""
    late = 12 if pace < 0.8 else (4 if pace < 1.0 else 0)
    return Plan(
        f"{title}（{'亮点工作'}）",
        lead,
        kind=TaskKind.HIGHLIGHT,
        pace=pace,
        tags="地市亮点",
        responsible="市局分管副局长",
        expected="形成可推广的经验做法",
        milestones=(
            (2 + i % 2, "制定实施方案", "实施方案", 0),
            (5, "阶段推进", "阶段报告", late if pace < 1.0 else -1),
            (9, "总结提炼经验", "经验材料", None),
            (12, "年终验收", "验收报告", None),
        ),
        silent_from=5 if pace < 0.65 else None,
    )


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def plan_events(task: Task, plan: Plan, start: date, today: date) -> list[Event]:
    """Monthly reports, milestones met, done/close/reopen, each on its day (none after today)."""
    events: list[Event] = []
    milestones = list(task.milestones.order_by("seq"))
    done_day = reopen_day = None
    if plan.outcome == "done":
        done_day, reopen_day = month_end(start, 5) + timedelta(days=3), date.max
    elif plan.outcome == "closed_reopened":
        done_day = month_end(start, 4) + timedelta(days=2)
        reopen_day = done_day + timedelta(days=30)
    for n in range(1, 13):
        day = month_end(start, n) - timedelta(days=8)  # reported around the 20th
        if day > today or (plan.silent_from and n >= plan.silent_from):
            continue
        if done_day and reopen_day and done_day <= day < reopen_day:
            continue
        percent = min(
            100, round(float(elapsed_share(task.start_date, task.due_date, day)) * 100 * plan.pace)
        )
        due_soon = next(
            (m for m in milestones if day <= m.due_date <= day + timedelta(days=12)), None
        )

        def report(d: date, p: int = percent, m: Any = due_soon, n: int = n) -> None:
            services.submit_report(
                task,
                user=SYSTEM,
                text=f"第{n}个月：按路线图推进，完成阶段工作。{INVENTED_NOTE}",
                percent=p,
                problems="基层警力紧张，经费到位偏慢。" if plan.pace < 0.9 else "",
                next_steps="对照时间节点倒排工期，加强督导。",
                milestone=m,
                today=d,
            )

        events.append((day, 1, report))
    for m, (_, _, _, delay) in zip(milestones, plan.milestones, strict=True):
        if delay is None:
            continue
        met = m.due_date + timedelta(days=delay)
        if met <= today:
            events.append(
                (met, 2, lambda d, m=m: services.mark_milestone_met(m, user=SYSTEM, on=d, today=d))  # type: ignore[misc]
            )
    if done_day and reopen_day:
        events.append((done_day, 3, lambda d: services.declare_done(task, user=SYSTEM, today=d)))
        if plan.outcome == "closed_reopened":
            events.append(
                (
                    done_day + timedelta(days=6),
                    4,
                    lambda d: services.close_task(task, user=SYSTEM, today=d),
                )
            )
            events.append(
                (
                    reopen_day,
                    5,
                    lambda d: services.reopen_task(
                        task,
                        user=SYSTEM,
                        today=d,
                        reason="抽查发现3个示范站未按标准配备装备，退回牵头单位整改（演示数据）",
                    ),
                )
            )
    return [e for e in events if e[0] <= today]


def create_planned(plan: Plan, issuer: OrgUnit, start: date, goal_step: Any = None) -> Task:
    due = month_end(start, 12)
    task = services.create_task(
        user=SYSTEM,
        issuing_unit=issuer,
        lead_unit=unit(plan.lead),
        partners=[unit(c) for c in plan.partners],
        kind=plan.kind,
        title=plan.title,
        description=f"{plan.expected}。{INVENTED_NOTE}",
        expected_result=plan.expected,
        responsible=plan.responsible,
        start_date=start,
        due_date=due,
        tags=f"{plan.tags},{DEMO_TAG}",
        goal_step=goal_step,
        **plan.extra,
    )
    for n, title, deliverable, _ in plan.milestones:
        services.add_milestone(
            task,
            user=SYSTEM,
            title=title,
            due_date=month_end(start, n),
            deliverable=deliverable,
            owner=plan.responsible,
        )
    return task


def replay(events: list[Event], start: date, today: date) -> None:
    """Apply each day's events, then run that day's reminder pass (no e-mail from the demo)."""
    by_day: dict[date, list[Event]] = {}
    for e in events:
        by_day.setdefault(e[0], []).append(e)
    with override_settings(DUBAN_TASK_EMAIL=False):
        day = start
        while day <= today:
            for _, _, fn in sorted(by_day.get(day, []), key=lambda e: e[1]):
                fn(day)
            daily_pass(day)
            day += timedelta(days=1)


def demo_loaded() -> bool:
    return Task.objects.filter(issuing_unit__code="SX", tags__contains=DEMO_TAG).exists()


@transaction.atomic
def load_tasks_demo(today: date | None = None) -> int:
    """Load the Shaanxi key tasks and the cities' highlight work; returns the tasks created (0 if loaded)."""
    today = today or services.today_local()
    if demo_loaded():
        return 0
    start = demo_start(today)
    sx = unit("SX")
    with acting_as(source="duban demo", reason="演示数据（虚构）"):
        goal = services.create_goal(
            sx,
            user=SYSTEM,
            title="全省公安工作“三年三步走”（演示）",
            first_year=start.year - 1,
            aims=["打基础、补短板", "上台阶、求突破", "创一流、争先进"],
            description=INVENTED_NOTE,
        )
        step = goal.steps.get(year=start.year)
        plans = KEY_TASKS + [highlight_plan(i, *h) for i, h in enumerate(HIGHLIGHTS)]
        events: list[Event] = []
        for plan in plans:
            task = create_planned(
                plan, sx, start, goal_step=step if plan.kind == TaskKind.KEY_TASK else None
            )
            events.extend(plan_events(task, plan, start, today))
        supervised = Task.objects.get(title="智慧交管平台建设")
        order_day = month_end(start, 4) + timedelta(days=20)
        if order_day <= today:
            events.append(
                (
                    order_day,
                    6,
                    lambda d: services.issue_supervision(
                        supervised,
                        user=SYSTEM,
                        today=d,
                        reply_days=7,
                        message="招标采购节点已超期，请说明原因并报送整改措施和完成时限（演示数据）",
                    ),
                )
            )
        replay(events, start, today)
    return len(plans)
