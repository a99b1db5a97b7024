"""The to-do page: what waits for the signed-in user, grouped by kind."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from duban.todo import services
from duban.web import AuthenticatedHttpRequest, actor


@login_required
@require_GET
def todo(request: AuthenticatedHttpRequest) -> HttpResponse:
    found = services.items(actor(request), timezone.localdate())
    return render(
        request, "todo/todo.html", {"groups": services.grouped(found), "total": len(found)}
    )
