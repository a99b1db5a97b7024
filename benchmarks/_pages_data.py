"""The pages benchmark's database: the demo on PostgreSQL with two years of the province's figures.

The database is reused while it is current: a fingerprint of the migrations, the demo's code and
data, this file and today's date (the tasks demo places its due dates around today) is kept in
a one-row table beside Django's. When it differs, the schema is dropped and built afresh:
migrate, `load_demo()` (what `duban demo` does), then the year before (`add_year_before`).
"""

from __future__ import annotations

import hashlib
import random
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SEED = 20161231
PROVINCE = "SX"
YEAR = 2017
STATE_TABLE = "bench_pages_state"
# Everything the database's contents follow from.
SOURCES = (
    "duban/*/migrations/*.py",
    "duban/demo/**/*",
    "duban/*/demo.py",
    "benchmarks/_pages_data.py",
)


def ensure_database(url: str) -> None:
    """Create the benchmark's own PostgreSQL database if it is not there (before Django starts)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    try:
        conn = psycopg.connect(admin, autocommit=True)
    except psycopg.OperationalError as e:
        raise SystemExit(f"the pages benchmark needs PostgreSQL ({admin}): {e}") from e
    with conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def fingerprint(today: date) -> str:
    """A hash of what the benchmark data is made from; a change of any of it rebuilds."""
    digest = hashlib.sha256(today.isoformat().encode())
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def stored_fingerprint() -> str | None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", [STATE_TABLE])
        row = cur.fetchone()
        if row is None or row[0] is None:
            return None
        cur.execute(f"SELECT fingerprint FROM {STATE_TABLE}")
        found = cur.fetchone()
    return None if found is None else str(found[0])


def prepare(today: date, *, rebuild: bool = False) -> tuple[bool, int]:
    """Make the database current; returns (built afresh, figures added for the year before)."""
    from django.core.management import call_command
    from django.db import connection

    wanted = fingerprint(today)
    if not rebuild and stored_fingerprint() == wanted:
        return False, 0
    with connection.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE")
        cur.execute("CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    from duban.demo.loader import load_demo

    load_demo(today=today)
    added = add_year_before()
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE {STATE_TABLE} (fingerprint text NOT NULL)")
        cur.execute(f"INSERT INTO {STATE_TABLE} VALUES (%s)", [wanted])
    return True, added


def add_year_before(root_code: str = PROVINCE, year: int = YEAR) -> int:
    """Give every figure of `year` under the province a figure of the year before, where the demo
    has none: the same unit, indicator and month, invented (85–100 % of this year's, so a rule's
    range still holds, seeded), approved, written in bulk by the system actor. Returns how many."""
    from duban.audit.context import acting_as
    from duban.orgs.models import OrgUnit
    from duban.orgs.policy import SYSTEM
    from duban.reporting.models import DataValue
    from duban.reporting.values import Figure, put_figures

    units = OrgUnit.objects.subtree_of(OrgUnit.objects.get(code=root_code))
    this_year = (
        DataValue.objects.filter(unit__in=units, period__startswith=str(year), value__isnull=False)
        .select_related("unit", "indicator")
        .order_by("unit__path", "indicator__code", "period")
    )
    before = set(
        DataValue.objects.filter(unit__in=units, period__startswith=str(year - 1)).values_list(
            "unit_id", "indicator_id", "period"
        )
    )
    rng = random.Random(SEED)
    figures: list[Figure] = []
    for row in this_year:
        period = f"{year - 1}{row.period[4:]}"
        if (row.unit_id, row.indicator_id, period) in before:
            continue
        assert row.value is not None
        step = Decimal(1).scaleb(-row.indicator.decimals)
        value = (row.value * Decimal(str(rng.uniform(0.85, 1.0)))).quantize(step)
        figures.append(Figure(row.unit, row.indicator, period, value))
    with acting_as(source="benchmarks.bench_pages", reason="benchmark data (invented figures)"):
        put_figures(figures, user=SYSTEM, action="benchmarks.pages.year_before")
    return len(figures)


def province_figures(root_code: str = PROVINCE) -> dict[str, int]:
    """How many figures the province's tree holds, by year (printed with the results)."""
    from django.db.models import Count
    from django.db.models.functions import Left

    from duban.orgs.models import OrgUnit
    from duban.reporting.models import DataValue

    units = OrgUnit.objects.subtree_of(OrgUnit.objects.get(code=root_code))
    rows = (
        DataValue.objects.filter(unit__in=units)
        .annotate(year=Left("period", 4))
        .values("year")
        .annotate(n=Count("id"))
        .order_by("year")
    )
    return {r["year"]: r["n"] for r in rows}
