"""The national pages benchmark's helpers: database names per scale and the percentiles.
Not in the default test paths: run `pytest -n 0 benchmarks/test_pages_national.py`."""

from __future__ import annotations

from benchmarks import _pages_national
from benchmarks.bench_pages import percentile

BASE = "postgres://postgres@127.0.0.1:5432/wt_bench"


def test_one_database_per_scale_on_the_same_server() -> None:
    assert _pages_national.database_for(BASE, 1.0).endswith(":5432/duban_national")
    assert _pages_national.database_for(BASE, 0.1).endswith(":5432/duban_national_0_1")
    assert _pages_national.database_for(BASE, 0.01).endswith(":5432/duban_national_0_01")


def test_percentiles_by_nearest_rank() -> None:
    times = [float(n) for n in range(1, 21)]  # 1 … 20
    assert percentile(times, 0.5) == 10.0
    assert percentile(times, 0.95) == 19.0
    assert percentile([3.0], 0.95) == 3.0


def test_the_fingerprint_follows_the_scale() -> None:
    assert _pages_national.fingerprint(0.1) != _pages_national.fingerprint(1.0)
