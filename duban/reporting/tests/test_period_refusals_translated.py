"""Period refusals read in the user's language (reporting shows them), and in English where
no Django is set up at all: periods stay plain Python."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest
from django.utils import translation

from duban.periods import PeriodType, StatisticalCalendar, parse_period, periods_between


def test_refusals_read_in_the_users_language() -> None:
    with pytest.raises(ValueError) as caught:
        parse_period("2017Q5")
    assert str(caught.value) == "报告期标识 '2017Q5' 无效：季度序号必须是 1..4，而不是 5"
    with translation.override("en"), pytest.raises(ValueError) as caught:
        parse_period("2017Q5")
    assert str(caught.value) == "invalid period identifier '2017Q5': quarter must be 1..4, got 5"


def test_period_types_are_named_in_the_language() -> None:
    with pytest.raises(ValueError, match=r"^月度报告期不能拆分为年度报告期$"):
        parse_period("201701").sub_periods(PeriodType.YEARLY)
    with pytest.raises(ValueError, match="统计日历不支持周报告期"):
        StatisticalCalendar(12, 21).period_containing(PeriodType.WEEKLY, date(2017, 1, 1))
    with (
        translation.override("en"),
        pytest.raises(ValueError, match=r"^start 2017-02-01 is after end 2017-01-01$"),
    ):
        periods_between(PeriodType.MONTHLY, date(2017, 2, 1), date(2017, 1, 1))


def test_without_django_settings_the_refusal_is_the_english_msgid() -> None:
    script = (
        "from duban.periods import parse_period\n"
        "try:\n    parse_period('2017W00')\n"
        "except ValueError as error:\n    print(error)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == (
        "invalid period identifier '2017W00': ISO weeks are numbered from 1"
    )
