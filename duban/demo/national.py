"""A seeded synthetic national organisation: the ministry, its provinces, cities, counties and
police stations, with divisions, a monthly data set and N years of approved figures.

`build_national(shape_for(1.0))` is the national scale of issue 16 — 34 provinces, 330 cities,
3,000 counties, 40,000 stations, and the divisions of every province and city (about 44,000
units) — with five station-reported indicators × 24 months ≈ 4.8 million figures. Smaller
scales keep the shape (`shape_for(0.01)` ≈ 440 units), for tests and the growth curve.

Loading is set-based, not a loop per row: units level by level with `bulk_create` in big
batches (paths computed here, in bulk), then the forms and the figures each with one
`INSERT … SELECT` over a cross join of staged units and months, on SQLite and PostgreSQL
alike; the year-to-date totals are rebuilt by the app's own `year_to_date.rebuild`. The few
rows a person would make (indicators, the data set, periods, accounts, roles) go through the
services and their audit trail; each bulk step writes one audit entry saying what it loaded
(how many rows, the seed and the shape). Everything is marked as demo: every figure is invented.

The same seed and shape give the same codes, names, states and figures on every run.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from duban.accounts.models import User
from duban.audit.context import acting_as
from duban.audit.services import audited_update, record
from duban.indicators import services as ind_services
from duban.indicators.models import DataSet
from duban.orgs import services as org_services
from duban.orgs.models import SEP, Kind, Level, Line, OrgUnit, Role
from duban.orgs.policy import SYSTEM
from duban.periods import PeriodType, parse_period
from duban.reporting import services as reporting_services
from duban.reporting import year_to_date
from duban.reporting.models import ReportingPeriod, figure_writer

SEED = 20260101
ROOT = "CN"
DATA_SET = "CN-MONTHLY"
REASON = "全国规模合成数据（虚构）"
PASSWORD = "Duban-demo-2017"
PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆",
    "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)  # fmt: skip
# (code suffix, Chinese name at a province, at a city, English, kind, line)
DIVISIONS = (
    ("GJB", "改革办", "改革办", "Reform office", Kind.OFFICE, ""),
    ("JJ", "交警总队", "交警支队", "Traffic police", Kind.DIVISION, Line.TRAFFIC),
    ("XZ", "刑侦总队", "刑侦支队", "Criminal investigation", Kind.DIVISION, Line.CRIMINAL),
)
# (code, Chinese name, English name, unit of measure, direction)
INDICATORS = (
    ("cn.case.filed", "刑事案件立案数", "Criminal cases filed", "起", "higher"),
    ("cn.case.solved", "刑事案件破案数", "Criminal cases solved", "起", "higher"),
    ("cn.fugitive.caught", "抓获逃犯数", "Fugitives caught", "人", "higher"),
    ("cn.traffic.removed", "清除交通安全隐患数", "Traffic hazards removed", "处", "higher"),
    ("cn.complaints", "群众投诉数", "Complaints from the public", "件", "lower"),
)
# The accounts the pages are measured as: a province office and a city leader.
OFFICE_USER = "cn_p01_office"
LEADER_USER = "cn_p01c01_leader"


@dataclass(frozen=True)
class Shape:
    """How many units of each level (the divisions of provinces and cities come on top)."""

    provinces: int
    cities: int
    counties: int
    stations: int
    years: int = 2
    indicators: int = len(INDICATORS)

    @property
    def units(self) -> int:
        """Every unit the shape makes: the root, the levels, and three divisions per office above counties."""
        return (
            1
            + (self.provinces + self.cities) * (1 + len(DIVISIONS))
            + self.counties
            + self.stations
        )


def shape_for(scale: float, *, years: int = 2, indicators: int = len(INDICATORS)) -> Shape:
    """The national shape (34, 330, 3,000, 40,000) times `scale`: the provinces by its cube root
    (a nation keeps most of its provinces as it shrinks), every lower level linearly, each
    level at least one unit per parent."""
    provinces = max(1, min(34, round(34 * scale ** (1 / 3))))
    cities = max(provinces, round(330 * scale))
    counties = max(cities, round(3000 * scale))
    stations = max(counties, round(40000 * scale))
    return Shape(provinces, cities, counties, stations, years, indicators)


@dataclass(frozen=True)
class Loaded:
    units: int
    forms: int
    figures: int
    periods: list[str]
    year_to_date_rows: int
    tasks: int
    records: int = 0


def _spread(total: int, parents: int, rng: random.Random) -> list[int]:
    """`total` children over `parents`, each at least one, unevenly (seeded)."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parents)]
    scale = (total - parents) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % parents] += 1
    return counts


def months_ending(end: str, years: int) -> list[str]:
    """`years` × 12 monthly period ids ending with `end` (YYYYMM)."""
    y, m = int(end[:4]), int(end[4:])
    out = []
    for _ in range(12 * years):
        out.append(f"{y:04d}{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def last_month(today: date) -> str:
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first.year:04d}{first.month:02d}"


def _unit(code: str, parent: OrgUnit | None, name: str, name_en: str, level: str, kind: str,
          order: int, line: str = "") -> OrgUnit:  # fmt: skip
    path = f"{parent.path if parent else SEP}{code}{SEP}"
    return OrgUnit(code=code, parent=parent, name_zh=name, name_en=name_en, level=level, kind=kind,
                   sort_order=order, line=line, path=path, depth=path.count(SEP) - 2, is_demo=True)  # fmt: skip


def _create(units: list[OrgUnit]) -> list[OrgUnit]:
    return OrgUnit.objects.bulk_create(units, batch_size=5000)


def _build_units(shape: Shape, rng: random.Random, prefix: str) -> tuple[OrgUnit, list[OrgUnit]]:
    """The tree, level by level; returns (root, stations in order)."""
    root = _create([_unit(prefix + ROOT, None, "公安部", "Ministry of Public Security", Level.PROVINCE,
                          Kind.TERRITORIAL, 0)])[0]  # fmt: skip
    provinces = _create([
        _unit(f"{prefix}P{p + 1:02d}", root, f"{PROVINCES[p % len(PROVINCES)]}公安厅",
              f"Public Security Department P{p + 1:02d}", Level.PROVINCE, Kind.TERRITORIAL, p)
        for p in range(shape.provinces)
    ])  # fmt: skip

    def divisions(parents: list[OrgUnit], level: str) -> list[OrgUnit]:
        return [
            _unit(f"{u.code}-{suffix}", u, u.name_zh[:-3] + (zh_p if level == Level.PROVINCE else zh_c),
                  f"{en} {u.code}", level, kind, order, line)
            for u in parents
            for order, (suffix, zh_p, zh_c, en, kind, line) in enumerate(DIVISIONS)
        ]  # fmt: skip

    def below(parents: list[OrgUnit], total: int, letter: str, zh: str, en: str, level: str,
              first: int) -> list[OrgUnit]:  # fmt: skip
        made = []
        for parent, n in zip(parents, _spread(total, len(parents), rng), strict=True):
            stem = (
                parent.name_zh[:-3]
                if parent.name_zh.endswith(("公安厅", "公安局"))
                else parent.name_zh
            )
            for i in range(n):
                code = f"{parent.code}-{letter}{i + 1:02d}"
                made.append(_unit(code, parent, f"{stem}{i + 1}{zh}", f"{en.capitalize()} {code}",
                                  level, Kind.TERRITORIAL, first + i))  # fmt: skip
        return made

    _create(divisions(provinces, Level.PROVINCE))
    cities = _create(below(provinces, shape.cities, "C", "市公安局", "city bureau", Level.CITY, 10))
    _create(divisions(cities, Level.CITY))
    counties = _create(
        below(cities, shape.counties, "X", "县公安局", "county bureau", Level.COUNTY, 10)
    )
    stations = _create(
        below(counties, shape.stations, "S", "派出所", "police station", Level.STATION, 0)
    )
    return root, stations


def _define(root: OrgUnit, shape: Shape, prefix: str) -> DataSet:
    codes = []
    for order, (code, zh, en, measure, direction) in enumerate(INDICATORS[: shape.indicators]):
        ind_services.create_indicator(
            user=SYSTEM, issuer=root, code=prefix.lower() + code, name_zh=zh, name_en=en,
            description="全国规模合成数据，均为虚构 / synthetic national data, all invented" if order == 0 else "",
            unit_of_measure=measure, value_type="integer", decimals=0, direction=direction,
            period_type=PeriodType.MONTHLY, time_aggregation="sum", unit_aggregation="sum",
            levels=[Level.STATION], kinds=[Kind.TERRITORIAL], sort_order=order,
        )  # fmt: skip
        codes.append(prefix.lower() + code)
    return ind_services.create_data_set(
        user=SYSTEM, owner=root, code=prefix + DATA_SET, name_zh="全国重点工作月报",
        name_en="National monthly key-work report", period_type=PeriodType.MONTHLY,
        timely_days=5, expiry_days=15, indicators=codes,
    )  # fmt: skip


def _stage(stations: list[OrgUnit], periods: list[str], ds: DataSet, seed: int) -> None:
    """Temporary tables the set-based inserts read: the stations with their ordinal and size,
    the months with their dates, the indicators with their ordinal."""
    pg = connection.vendor == "postgresql"

    def stamp(day: datetime) -> object:
        aware = day.replace(tzinfo=UTC)
        return aware if pg else aware.isoformat(" ")

    with connection.cursor() as cur:
        for name in ("nat_units", "nat_periods", "nat_inds"):
            cur.execute(f"DROP TABLE IF EXISTS {name}")
        cur.execute(
            "CREATE TEMPORARY TABLE nat_units (id bigint PRIMARY KEY, ord integer, size integer)"
        )
        cur.execute("CREATE TEMPORARY TABLE nat_periods (period varchar(16), n integer, last integer, "
                    "submitted_at timestamp with time zone, approved_at timestamp with time zone, "
                    "first_day date)")  # fmt: skip
        cur.execute("CREATE TEMPORARY TABLE nat_inds (id bigint, ord integer)")
        rng = random.Random(seed)
        cur.executemany(
            "INSERT INTO nat_units VALUES (%s, %s, %s)",
            [(u.pk, i, rng.randint(20, 80)) for i, u in enumerate(stations)],
        )
        rows: list[Any] = []
        for n, pid in enumerate(periods):
            end = datetime.combine(parse_period(pid).end, datetime.min.time())
            first = parse_period(pid).start
            rows.append((pid, n, int(n == len(periods) - 1), stamp(end + timedelta(days=3)),
                         stamp(end + timedelta(days=6)), first if pg else first.isoformat()))  # fmt: skip
        cur.executemany("INSERT INTO nat_periods VALUES (%s, %s, %s, %s, %s, %s)", rows)
        members = [
            m.indicator for m in ds.memberships.select_related("indicator").order_by("sort_order")
        ]
        cur.executemany(
            "INSERT INTO nat_inds VALUES (%s, %s)", [(ind.pk, i) for i, ind in enumerate(members)]
        )


# The state of one form: every month approved but the last, where of every ten stations seven
# have submitted, two hold a draft and one has given nothing yet (no form, no figures).
_FATE = "((u.ord * 31 + 7) % 10)"
_STATE = f"CASE WHEN p.last = 0 THEN 'approved' WHEN {_FATE} < 7 THEN 'submitted' ELSE 'draft' END"
_GIVEN = f"(p.last = 0 OR {_FATE} < 9)"
# One invented figure from the station's size, the month and a hash of both: solved ≤ filed.
_BASE = "(u.size + ((u.ord * 7919 + p.n * 104729 + i.ord * 1299709 + {seed}) % 23))"
_VALUE = (
    "CASE i.ord WHEN 0 THEN {b} WHEN 1 THEN ({b} * (45 + (u.ord + p.n) % 45)) / 100 "
    "WHEN 2 THEN {b} / 12 WHEN 3 THEN {b} / 2 ELSE {b} / 25 END"
)


def _insert_forms(ds: DataSet) -> int:
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO reporting_submission (data_set_id, unit_id, period, state, first_submitted_at, "
            "submitted_at, approved_at, locked_at, return_reason, version) "
            f"SELECT {int(ds.pk)}, u.id, p.period, {_STATE}, "
            f"CASE WHEN {_STATE} = 'draft' THEN NULL ELSE p.submitted_at END, "
            f"CASE WHEN {_STATE} = 'draft' THEN NULL ELSE p.submitted_at END, "
            "CASE WHEN p.last = 0 THEN p.approved_at END, NULL, '', 1 "
            f"FROM nat_units u CROSS JOIN nat_periods p WHERE {_GIVEN}",
        )
        return int(cur.rowcount)


def _insert_figures(seed: int) -> int:
    value = _VALUE.format(b=_BASE.format(seed=seed))
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO reporting_datavalue (unit_id, indicator_id, period, value, comment, state, "
            "version, updated_at) "
            f"SELECT u.id, i.id, p.period, {value}, '', {_STATE}, 1, p.submitted_at "
            f"FROM nat_units u CROSS JOIN nat_periods p CROSS JOIN nat_inds i WHERE {_GIVEN}"
        )
        return int(cur.rowcount)


# Business records: for each station, month and record type, 0 to RECORDS_MAX - 1 records (a
# hash of the three and the seed), on a day of the month from the same hash; fugitives caught
# carry a class. About 9 a station and month over the six types: 8.6 M records for two years at
# scale 1, the size of the benchmark.
RECORDS_MAX = 4
_HOW_MANY = "((u.ord * 2654435761 + p.n * 40503 + t.ord * 9973 + {seed}) % {top})"
_DAY = "((u.ord * 131 + p.n * 17 + t.ord * 7 + s.n * 29) % 28)"
_GRADE = ("CASE WHEN t.code = 'fugitive_caught' THEN CASE (u.ord + s.n) % 5 "
          "WHEN 0 THEN 'A' WHEN 1 THEN 'B' ELSE 'local' END ELSE '' END")  # fmt: skip


def _insert_records(prefix: str, seed: int) -> int:
    """The records of every station, written by DuckDB straight into one file of the record
    store (one `COPY … SELECT` over the staged units, months and types and a small counter),
    as one applied import; numbered so that a second tree (`prefix`) never collides."""
    import duckdb

    from duban.records import store
    from duban.records.demo import load_record_types
    from duban.records.models import ImportState, RecordImport, RecordType

    load_record_types()
    source = RecordImport.objects.create(
        file_name=f"{prefix}national-synthetic.csv", sha256="0" * 64, file_format="csv",
        state=ImportState.APPLIED,
    )  # fmt: skip
    with connection.cursor() as cur:
        cur.execute("SELECT id, ord FROM nat_units")
        units = cur.fetchall()
        cur.execute("SELECT n, first_day FROM nat_periods")
        periods = [(n, str(day)[:10]) for n, day in cur.fetchall()]
    types = list(RecordType.objects.order_by("sort_order", "code").values_list("pk", "code"))
    con = duckdb.connect(":memory:")
    try:
        con.execute(
            "CREATE TABLE nat_units AS SELECT unnest(?::BIGINT[]) AS id, unnest(?::INTEGER[]) AS ord",
            [[u[0] for u in units], [u[1] for u in units]],
        )
        con.execute(
            "CREATE TABLE nat_periods AS SELECT unnest(?::INTEGER[]) AS n, "
            "CAST(unnest(?::VARCHAR[]) AS DATE) AS first_day",
            [[p[0] for p in periods], [p[1] for p in periods]],
        )
        con.execute(
            "CREATE TABLE nat_types AS SELECT unnest(?::BIGINT[]) AS id, "
            "unnest(?::INTEGER[]) AS ord, unnest(?::VARCHAR[]) AS code",
            [[t[0] for t in types], list(range(len(types))), [t[1] for t in types]],
        )
        con.execute(
            f"CREATE TABLE nat_seq AS SELECT CAST(range AS INTEGER) AS n FROM range({RECORDS_MAX})"
        )
        number = f"concat('{prefix}N', u.ord, '-', p.n, '-', t.ord, '-', s.n)"
        source.stored_as = store.write(
            con,
            f"SELECT {number}, t.id, u.id, p.first_day + CAST({_DAY} AS INTEGER), {_GRADE}, 1, '{{}}' "
            "FROM nat_units u CROSS JOIN nat_periods p CROSS JOIN nat_types t "
            f"JOIN nat_seq s ON s.n < {_HOW_MANY.format(seed=seed, top=RECORDS_MAX)}",
            source.pk,
        )
        made = int(con.execute(
            f"SELECT count(*) FROM {store.relation([str(store.path_of(source.stored_as))])}"
        ).fetchone()[0])  # type: ignore[index]  # fmt: skip
    finally:
        con.close()
    source.rows_read = source.rows_new = made
    source.save()
    return made


def _accounts(root: OrgUnit, prefix: str) -> None:
    hashed = make_password(PASSWORD)
    wanted: tuple[tuple[str, str, str, Role], ...] = ((OFFICE_USER, "第01省考评办", "P01", Role.OFFICE),
              (LEADER_USER, "第01省01市局领导", "P01-C01", Role.LEADER),
              ("cn_office", "公安部考评办", ROOT, Role.OFFICE))  # fmt: skip
    wanted = tuple((prefix.lower() + u, n, prefix + c, r) for u, n, c, r in wanted)
    for username, full_name, code, role in wanted:
        user = User(username=username, full_name=full_name)
        user.password = hashed
        user.save()
        org_services.grant_role(user, OrgUnit.objects.get(code=code), role, user=SYSTEM)


TASK_TITLES = (
    "命案积案攻坚",
    "电信网络诈骗治理",
    "道路交通安全隐患清零",
    "追逃专项行动",
    "群众满意度提升",
)


def _add_tasks(root: OrgUnit, today: date) -> int:
    """Key tasks from above, set-wise small: each province issues one to each of its first five
    cities, each city one to each of its first two counties; a milestone each, due in the
    past for some (so the board shows red and yellow), seeded by position."""
    from duban.tasks import services as task_services
    from duban.tasks.models import TaskKind

    made = 0
    tree = OrgUnit.objects.subtree_of(root)
    issuers = tree.filter(
        kind=Kind.TERRITORIAL, level__in=[Level.PROVINCE, Level.CITY], depth__gte=1
    ).order_by("path")
    leads: dict[int, list[OrgUnit]] = {}
    for u in tree.filter(kind=Kind.TERRITORIAL, level__in=[Level.CITY, Level.COUNTY]).order_by(
        "path"
    ):
        assert u.parent_id is not None
        leads.setdefault(u.parent_id, []).append(u)
    for issuer in issuers:
        for n, lead in enumerate(
            leads.get(issuer.pk, [])[: 5 if issuer.level == Level.PROVINCE else 2]
        ):
            start = today - timedelta(days=120 + 30 * n)
            task = task_services.create_task(
                user=SYSTEM, issuing_unit=issuer, lead_unit=lead, kind=TaskKind.KEY_TASK,
                title=f"{TASK_TITLES[n % len(TASK_TITLES)]}（{lead.name_zh}）",
                description="全国规模合成数据（虚构）", start_date=start,
                due_date=today + timedelta(days=60 + 20 * n),
            )  # fmt: skip
            task_services.add_milestone(
                task, user=SYSTEM, title="阶段目标", due_date=today + timedelta(days=(n - 2) * 15),
                deliverable="阶段报告",
            )  # fmt: skip
            made += 1
    return made


@transaction.atomic
def build_national(
    shape: Shape,
    *,
    end: str,
    seed: int = SEED,
    today: date | None = None,
    prefix: str = "",
    records: bool = False,
) -> Loaded:
    """Load the national organisation into a database that has none (refused otherwise).
    `prefix` goes before every code and account name: two trees side by side (the tests);
    `records`: the stations' business records too (about 9 a station and month)."""
    if OrgUnit.objects.filter(code=prefix + ROOT).exists():
        raise RuntimeError(f"{prefix}{ROOT} is already loaded: build it on a fresh database")
    rng = random.Random(seed)
    periods = months_ending(end, shape.years)
    with acting_as(source="duban national", reason=REASON):
        root, stations = _build_units(shape, rng, prefix)
        units = OrgUnit.objects.subtree_of(root).count()
        record("demo.national.units_loaded", obj=root,
               after={"units": units, "seed": seed, **asdict(shape)})  # fmt: skip
        _accounts(root, prefix)
        ds = _define(root, shape, prefix)
        for pid in periods:
            reporting_services.open_period(ds, pid, user=SYSTEM)
        audited_update(ReportingPeriod.objects.filter(data_set=ds, period__in=periods[:-1]),
                       is_closed=True)  # fmt: skip
        _stage(stations, periods, ds, seed)
        if connection.vendor == "postgresql":
            # The rows below are made by joining rows that exist, so their foreign keys hold by
            # construction: checking 11 million of them at COMMIT (deferred) took minutes.
            with connection.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = replica")
        forms = _insert_forms(ds)
        token = figure_writer.set(True)
        try:
            figures = _insert_figures(seed)
        finally:
            figure_writer.reset(token)
        record("demo.national.figures_loaded", obj=ds,
               after={"forms": forms, "figures": figures, "periods": [periods[0], periods[-1]],
                      "seed": seed})  # fmt: skip
        ytd = year_to_date.rebuild()  # derived from the figures: its keys hold too
        made = _insert_records(prefix, seed) if records else 0
        if made:
            record("demo.national.records_loaded", obj=root, after={"records": made, "seed": seed})
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = DEFAULT")
        tasks = _add_tasks(root, today or timezone.localdate())
    return Loaded(units, forms, figures, periods, ytd, tasks, made)


def now_end() -> str:
    return last_month(timezone.localdate())
