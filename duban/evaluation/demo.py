"""Demo schemes over the invented demo figures: Yongzhou city bureau and the Shaanxi department.

Run after ``load_reporting_demo()``; a second run does nothing. Besides the
schemes it defines four office-assessed indicators (serious misconduct,
commendations, service to local bureaus, the office's discretionary
deductions) with invented, approved monthly figures, and publishes the
Yongzhou results of 2017Q3 for review (公示). Every figure is invented.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from duban.audit.context import acting_as
from duban.evaluation import cache, services
from duban.evaluation.builder import data_to_engine
from duban.evaluation.models import Scheme
from duban.indicators import services as ind_services
from duban.indicators.models import Indicator
from duban.orgs.models import Kind, OrgUnit
from duban.orgs.policy import SYSTEM
from duban.periods import PeriodType
from duban.reporting.models import State
from duban.reporting.values import Figure, put_figures

SEED = 20171208
INVENTED = "演示数据均为虚构。"
QUOTA_GRADES = [
    {"code": "excellent", "name": {"zh": "优秀", "en": "Excellent"}, "min": 90, "quota": {"at_most_percent": 25}},
    {"code": "good", "name": {"zh": "良好", "en": "Good"}, "min": 80, "quota": {"at_most_percent": 50}},
    {"code": "pass", "name": {"zh": "达标", "en": "Satisfactory"}, "min": 60},
    {"code": "warning", "name": {"zh": "诫勉", "en": "Admonished"}, "min": 0, "quota": {"at_least_percent": 5}},
]  # fmt: skip
EVAL_INDICATORS = (
    ("eval.serious_cases", "严重违法违纪案件", "Serious misconduct cases", "sum"),
    ("eval.commendations", "省级以上表彰", "Provincial commendations", "sum"),
    ("eval.service_score", "服务基层测评得分", "Service to local bureaus (survey)", "average"),
    ("eval.office_deduction", "考评办酌情扣分", "Office's discretionary deduction", "sum"),
)


def _unit(u: OrgUnit) -> dict[str, Any]:
    return {
        "code": u.code,
        "name": {"zh": u.name_zh, "en": u.name_en},
        "level": u.level,
        "kind": u.kind,
    }


def _item(
    code: str,
    category: str,
    indicator: str,
    zh: str,
    en: str,
    points: Any,
    rule: dict[str, Any],
    text: str,
    **more: Any,
) -> dict[str, Any]:
    return {"code": code, "category": category, "indicator": indicator, "name": {"zh": zh, "en": en},
            "points": Decimal(str(points)), "rule": rule, "rule_text": text, **more}  # fmt: skip


def yongzhou(root: OrgUnit) -> dict[str, Any]:
    bureaus = list(
        OrgUnit.objects.filter(parent=root, kind=Kind.TERRITORIAL).order_by("sort_order")
    )
    divisions = list(OrgUnit.objects.filter(parent=root, kind=Kind.DIVISION).order_by("sort_order"))
    big = {"YZ-LST": 700, "YZ-LL": 650, "YZ-QY": 600}
    d = Decimal
    items = [
        _item("crackdown.solved", "crackdown", "case.solved", "集打斗争破案数", "Cases solved", 20,
              {"kind": "attainment", "cap": d(1)}, "按完成率计分，完成任务数得满分",
              cumulative=True, target={"default": d(420), "units": {k: d(v) for k, v in big.items()}},
              groups=["territorial"]),
        _item("crackdown.clearance", "crackdown", "case.clearance", "破案率", "Clearance rate", 10,
              {"kind": "shortfall", "per_point": d("0.5")},
              "破案率达到70%得满分，完成率每低1个百分点扣0.5分，扣完为止", target=d(70), groups=["territorial"]),
        _item("crackdown.gangs", "crackdown", "crackdown.gangs", "打掉犯罪团伙", "Gangs dismantled", 5,
              {"kind": "steps", "bands": [{"at_least": d(6), "points": d(3)}, {"at_least": d(10), "points": d(5)}]},
              "打掉团伙6个(含)以上得3分，10个(含)以上得5分", cumulative=True, groups=["territorial"]),
        _item("pursuit.fugitives", "pursuit", "fugitive", "抓获逃犯", "Fugitives caught", 10,
              {"kind": "weighted_count", "weights": {"caught": d("0.2"), "target": d(1)}},
              "抓获逃犯每名计0.2分，其中目标逃犯每名另加1分，最高10分", cumulative=True, groups=["territorial"]),
        _item("traffic.yellow", "traffic", "traffic.yellow_removed", "黄标车淘汰", "Yellow-label vehicles removed",
              15, {"kind": "attainment"}, "按淘汰任务数完成率计分", cumulative=True,
              target={"default": d(480), "units": {"YZ-LST": d(650), "YZ-LL": d(600)}}, groups=["territorial"]),
        _item("poll.rank", "poll", "poll.satisfaction", "民调排名", "Poll rank", 10,
              {"kind": "rank", "per_place": d("0.5")}, "第一名10分，按名次依次递减0.5分", groups=["territorial"]),
        _item("poll.level", "poll", "poll.satisfaction", "民调满意度", "Poll satisfaction", 10,
              {"kind": "steps", "bands": [{"at_least": d(85), "points": d(6)}, {"at_least": d(88), "points": d(8)},
                                          {"at_least": d(92), "points": d(10)}]},
              "满意度85%(含)以上得6分，88%(含)以上得8分，92%(含)以上得10分", groups=["territorial"]),
        _item("team.discipline", "team", "discipline.cases", "违纪违法案件", "Disciplinary cases", 15,
              {"kind": "deduction", "per_occurrence": d(5)}, "每发生1起民警违纪违法案件扣5分，扣完为止",
              direction="lower", cumulative=True, groups=["territorial"]),
        _item("div.service", "service", "eval.service_score", "服务基层测评", "Service to local bureaus", 70,
              {"kind": "relative_to_best"}, "以最高分为满分，其余按比例计分", groups=["divisions"]),
        _item("team.management", "management", "eval.office_deduction", "队伍管理", "Team management", 10,
              {"kind": "discretionary", "min": d(1), "max": d(10)},
              "苗头性、倾向性问题露头未抓的，酌情扣1至10分", cumulative=True),
        _item("bonus.commendation", "bonus", "eval.commendations", "省级以上表彰", "Provincial commendations", 5,
              {"kind": "bonus", "per_occurrence": d(2)}, "受到省级以上表彰的，每次加2分，最多加5分", cumulative=True),
        _item("veto.serious", "veto", "eval.serious_cases", "严重违法违纪", "Serious misconduct", 0,
              {"kind": "veto"}, "发生民警严重违法违纪造成恶劣影响的，实行一票否决", cumulative=True),
    ]  # fmt: skip
    return {
        "code": "yz-2017",
        "name": {"zh": "永州市公安局2017年度绩效考评方案（演示）", "en": "Yongzhou city bureau 2017 evaluation (demo)"},
        "year": 2017, "issuer": root.code, "calendar": {"start_month": 12, "start_day": 21},
        "units": [_unit(u) for u in bureaus + divisions],
        "groups": [
            {"code": "territorial", "name": {"zh": "地区单位", "en": "Territorial bureaus"},
             "members": [u.code for u in bureaus]},
            {"code": "divisions", "name": {"zh": "警种部门", "en": "Police divisions"},
             "members": [u.code for u in divisions]},
        ],
        "categories": [
            {"code": "crackdown", "name": {"zh": "集打斗争", "en": "Crackdown campaign"}, "points": d(35)},
            {"code": "pursuit", "name": {"zh": "追逃", "en": "Fugitive pursuit"}, "points": d(10)},
            {"code": "traffic", "name": {"zh": "黄标车治理", "en": "Yellow-label vehicles"}, "points": d(15)},
            {"code": "poll", "name": {"zh": "民调", "en": "Satisfaction poll"}, "points": d(20)},
            {"code": "service", "name": {"zh": "服务基层", "en": "Service to local bureaus"}, "points": d(70)},
            {"code": "team", "name": {"zh": "队伍建设", "en": "Team discipline"}, "points": d(15)},
            {"code": "management", "name": {"zh": "队伍管理", "en": "Team management"}, "points": d(10)},
            {"code": "bonus", "name": {"zh": "加分", "en": "Bonus"}, "points": d(5)},
            {"code": "veto", "name": {"zh": "一票否决", "en": "Veto"}, "points": d(0)},
        ],
        "items": items,
        "grades": QUOTA_GRADES,
        "max_items_per_level": {"county": 12},
    }  # fmt: skip


def shaanxi(root: OrgUnit) -> dict[str, Any]:
    cities = list(
        OrgUnit.objects.filter(parent=root, kind=Kind.TERRITORIAL, level="city").order_by(
            "sort_order"
        )
    )
    a = [u.code for u in cities if u.code in ("SX-XA", "SX-BJ", "SX-XY", "SX-WN", "SX-HZ", "SX-YL")]
    b = [u.code for u in cities if u.code not in a]
    d = Decimal
    items = [
        _item("sx.solved", "crackdown", "sx.case.solved", "刑事案件破案数", "Cases solved", 25,
              {"kind": "attainment", "cap": d("1.1")}, "按完成率计分，超额完成的最高计110%", cumulative=True,
              target={"default": d(420), "units": {"SX-XA": d(900)}}),
        _item("sx.clearance", "crackdown", "sx.case.clearance", "破案率", "Clearance rate", 15,
              {"kind": "relative_to_best"}, "以最高为满分，其余按比例计分"),
        _item("sx.fugitives", "pursuit", "sx.fugitive.caught", "抓获逃犯", "Fugitives caught", 15,
              {"kind": "rank", "per_place": d(2)}, "第一名15分，按名次依次递减2分", cumulative=True),
        _item("sx.yellow", "traffic", "sx.traffic.yellow_removed", "黄标车淘汰", "Yellow-label vehicles removed", 15,
              {"kind": "threshold", "else_share": d("0.6")}, "完成淘汰任务得满分，未完成的得60%", cumulative=True,
              target=d(450)),
        _item("sx.poll", "poll", "sx.poll.satisfaction", "群众安全感满意度", "Public satisfaction", 20,
              {"kind": "shortfall", "per_point": d(1)}, "满意度达到90%得满分，完成率每低1个百分点扣1分", target=d(90)),
        _item("sx.discipline", "team", "sx.discipline.cases", "违纪违法案件", "Disciplinary cases", 10,
              {"kind": "deduction", "per_occurrence": d(2)}, "每发生1起扣2分，扣完为止", direction="lower",
              cumulative=True),
    ]  # fmt: skip
    return {
        "code": "sx-2017",
        "name": {"zh": "陕西省公安厅2017年度地市公安机关绩效考评方案（演示）",
                 "en": "Shaanxi department 2017 evaluation of city bureaus (demo)"},
        "year": 2017, "issuer": root.code,
        "units": [_unit(u) for u in cities],
        "groups": [{"code": "cities", "name": {"zh": "地市公安局", "en": "City bureaus"},
                    "members": a + b,
                    "sequences": [{"code": "A", "name": {"zh": "A类", "en": "Group A"}, "members": a},
                                  {"code": "B", "name": {"zh": "B类", "en": "Group B"}, "members": b}]}],
        "categories": [
            {"code": "crackdown", "name": {"zh": "打击犯罪", "en": "Crackdown"}, "points": d(40)},
            {"code": "pursuit", "name": {"zh": "追逃", "en": "Fugitive pursuit"}, "points": d(15)},
            {"code": "traffic", "name": {"zh": "黄标车治理", "en": "Yellow-label vehicles"}, "points": d(15)},
            {"code": "poll", "name": {"zh": "民调", "en": "Satisfaction poll"}, "points": d(20)},
            {"code": "team", "name": {"zh": "队伍建设", "en": "Team discipline"}, "points": d(10)},
        ],
        "items": items,
        "grades": QUOTA_GRADES,
    }  # fmt: skip


def _eval_values(root: OrgUnit, scheme: Scheme) -> int:
    """Invented, approved monthly figures for the office-assessed indicators."""
    rng = random.Random(f"{SEED}-eval")
    indicators = {}
    for code, zh, en, how in EVAL_INDICATORS:
        ind = Indicator.objects.filter(code=code).first() or ind_services.create_indicator(
            user=SYSTEM, issuer=root, code=code, name_zh=zh, name_en=en, description=INVENTED,
            value_type="decimal" if how == "average" else "integer", decimals=1 if how == "average" else 0,
            period_type=PeriodType.MONTHLY, time_aggregation=how, levels=[], kinds=[],
        )  # fmt: skip
        indicators[code] = ind
    members = [m.unit for g in scheme.groups.all() for m in g.members.select_related("unit")]
    rows = []
    for month in range(1, 13):
        period = f"2017{month:02d}"
        for unit in members:
            division = unit.kind == Kind.DIVISION
            figures: dict[str, tuple[Decimal, str]] = {
                "eval.serious_cases": (Decimal(1 if rng.random() < 0.006 else 0), ""),
                "eval.commendations": (Decimal(1 if rng.random() < 0.08 else 0), ""),
            }
            deduct = rng.random() < 0.04
            figures["eval.office_deduction"] = (
                (Decimal(rng.choice((1, 2, 3))), "苗头性问题露头未抓（虚构）")
                if deduct else (Decimal(0), "")
            )  # fmt: skip
            if division:
                figures["eval.service_score"] = (Decimal(f"{rng.uniform(78, 98):.1f}"), "")
            for code, (value, comment) in figures.items():
                rows.append(Figure(unit, indicators[code], period, value, State.APPROVED, comment))
    # Named figure by figure, as write_values names its changes, so `audit verify --data`
    # replays them; these figures are on no form, so the entries carry their state.
    put_figures(rows, user=SYSTEM, action="evaluation.demo.values")
    return len(rows)


@transaction.atomic
def load_evaluation_demo() -> dict[str, int]:
    """Create the two demo schemes, their office-assessed figures and one publication."""
    counts = {"schemes": 0, "values": 0, "publications": 0}
    with acting_as(source="duban demo", reason="演示数据（虚构）"):
        yz = OrgUnit.objects.filter(code="YZ", is_demo=True).first()
        sx = OrgUnit.objects.filter(code="SX", is_demo=True).first()
        if yz is not None and not Scheme.objects.filter(code="yz-2017").exists():
            scheme = services.save_engine_scheme(data_to_engine(yongzhou(yz)), user=SYSTEM)
            services.publish_scheme(scheme, user=SYSTEM)
            counts["values"] += _eval_values(yz, scheme)
            services.publish_results(scheme, "2017Q3", user=SYSTEM,
                                     objection_deadline=timezone.localdate() + timedelta(days=14))  # fmt: skip
            counts["schemes"] += 1
            counts["publications"] += 1
        if sx is not None and not Scheme.objects.filter(code="sx-2017").exists():
            scheme = services.save_engine_scheme(data_to_engine(shaanxi(sx)), user=SYSTEM)
            services.publish_scheme(scheme, user=SYSTEM)
            counts["schemes"] += 1
        # Last: every period scored and kept, so the first cockpit opens at once.
        cache.fill(Scheme.objects.published().filter(issuer__is_demo=True))
    return counts
