"""What the apps' page views share, so each view stays: fetch, authorise, one service call."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.contrib import messages
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from duban import errors
from duban.errors import DubanError, Problem

T = TypeVar("T")


def add_problems(form: BaseForm | None, exc: DubanError) -> list[Problem]:
    """Every problem on the form: beside its field, the rest above it (for pages that show
    no separate list of problems)."""
    return errors.add_problems(form, exc, rest_to_form=True)


def form_page(
    request: HttpRequest,
    form: BaseForm,
    save: Callable[[dict[str, Any]], T],
    *,
    title: str,
    back: str,
    done: str | Callable[[T], str],
    then: Callable[[T], str] | None = None,
    intro: str = "",
    template: str = "duban/form.html",
    context: Mapping[str, Any] | None = None,
    invalid_status: int = 200,
) -> HttpResponse:
    """A page with one form whose valid POST calls one service.

    `save` gets the cleaned data and calls the service. If it returns, the `done` message is
    shown and the browser goes to `then(result)` (by default `back`). If the service refuses
    (a DubanError, nothing written), the form is shown again, still 200, each problem beside
    its field and the others above the form. The page is duban/form.html, shared by every
    app (its <form> posts multipart when the form has a file field), or `template` with
    `context` added; a form with errors answers `invalid_status`.
    """
    problems: list[Problem] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = save(form.cleaned_data)
        except DubanError as exc:
            problems = errors.add_problems(form, exc)
        else:
            messages.success(request, done(result) if callable(done) else done)
            return redirect(then(result) if then is not None else back)
    page = {
        "form": form,
        "title": title,
        "back": back,
        "problems": problems,
        "multipart": form.is_multipart(),
        "intro": intro,
        **(context or {}),
    }
    status = invalid_status if form.errors or problems else 200
    return render(request, template, page, status=status)


def post_action(
    request: HttpRequest,
    act: Callable[[], T],
    *,
    back: str,
    done: str,
    then: Callable[[T], str] | None = None,
) -> HttpResponse:
    """A button (POST, no form) that calls one service through `act`.

    If it returns, the `done` message is shown and the browser goes to `then(result)` (by
    default `back`); if the service refuses, each problem is shown and the browser goes `back`.
    """
    try:
        result = act()
    except DubanError as exc:
        for p in exc.problems:
            messages.error(request, str(p))
        return redirect(back)
    messages.success(request, done)
    return redirect(then(result) if then is not None else back)
