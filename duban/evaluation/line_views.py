"""The page of a scheme's scores along one line (条线): see `evaluation.lines`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from duban.errors import DubanError
from duban.evaluation import lines
from duban.evaluation.engine.decimals import figure, fixed
from duban.evaluation.models import Scheme
from duban.evaluation.period_choices import scheme_periods
from duban.evaluation.scoring import score
from duban.orgs.models import Line
from duban.web import actor


@login_required
def line_scores(request: HttpRequest, code: str, line: str) -> HttpResponse:
    """One line's items of a published scheme across the units the reader follows."""
    scheme = get_object_or_404(Scheme.objects.select_related("issuer"), code=code)
    items, seen = lines.require_line(actor(request), scheme, line)
    try:
        scored = score(scheme, request.GET.get("period") or None)
    except DubanError as exc:
        return render(
            request,
            "evaluation/problems.html",
            {"problems": exc.shown(), "back": scheme.code},
            status=400,
        )
    tables = [
        {
            "item": t.item,
            "rows": [
                {
                    "row": r,
                    "value": figure(r.value) if r.value is not None else "—",
                    "score": fixed(r.score, 2),
                    "max": fixed(r.max_score, 2),
                }
                for r in t.rows
            ],
        }
        for t in lines.line_table(scored, items, seen)
    ]
    context = {
        "scheme": scheme,
        "line": Line(line).label,
        "period": scored.result.period.id,
        "periods": scheme_periods(scheme),
        "result": scored.result,
        "tables": tables,
    }
    return render(request, "evaluation/line_scores.html", context)
