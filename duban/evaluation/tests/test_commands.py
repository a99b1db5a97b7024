from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def test_scores_command_formats(scheme) -> None:
    out = StringIO()
    call_command(
        "scores", "t-2017", "--period", "2017Q1", "--format", "json", "--lang", "en", stdout=out
    )
    data = json.loads(out.getvalue())
    unit = next(u for u in data["units"] if u["code"] == "COUNTY-A")
    assert unit["total"] == "20.00" and "completion" in unit["items"][0]["explanation"]
    out = StringIO()
    call_command("scores", "t-2017", "--period", "2017Q1", "--format", "csv", stdout=out)
    assert out.getvalue().startswith("group,sequence,unit")
    out = StringIO()
    call_command("scores", "t-2017", stdout=out)
    assert "测试方案" in out.getvalue()


@pytest.mark.parametrize(
    "args", [["nosuch"], ["t-2017", "--period", "2019"], ["t-2017", "--today", "x"]]
)
def test_scores_command_errors(scheme, args: list[str]) -> None:
    with pytest.raises(CommandError):
        call_command("scores", *args, stdout=StringIO())
