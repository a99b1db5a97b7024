"""Document pages: the publications list, a new draft, editing, issuing, downloads.

Thin: authorise with the app's access module, fetch, call one service, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from duban.bulletins import access, services
from duban.bulletins import render as documents
from duban.bulletins.forms import NewDocumentForm, TextsForm
from duban.bulletins.models import Bulletin, BulletinState, DocumentKind
from duban.meetings.models import Meeting
from duban.web import AuthenticatedHttpRequest, actor, download, form_page, post_action


def _page(bulletin: Bulletin) -> str:
    return reverse("bulletins:document", args=[bulletin.pk])


def _visible(request: AuthenticatedHttpRequest, pk: int) -> Bulletin:
    bulletin = get_object_or_404(
        Bulletin.objects.select_related("series", "issuer", "corrects", "meeting"), pk=pk
    )
    access.require_view(request.user, bulletin)
    return bulletin


def _managed(request: AuthenticatedHttpRequest, pk: int) -> Bulletin:
    bulletin = _visible(request, pk)
    access.require_manage(request.user, bulletin.issuer)
    return bulletin


@login_required
def publications(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Issued documents in the reader's scope, laid out as the public disclosure site does;
    the office's drafts above them."""
    visible = access.visible_bulletins(request.user).select_related("series", "issuer")
    kind = request.GET.get("kind", "")
    if kind in DocumentKind.values:
        visible = visible.filter(kind=kind)
    issued = visible.filter(state=BulletinState.ISSUED).order_by("-date_written", "-id")[:200]
    drafts = visible.filter(state=BulletinState.DRAFT).order_by("-generated_at")[:50]
    return render(
        request,
        "bulletins/list.html",
        {
            "issued": issued,
            "drafts": drafts,
            "kinds": DocumentKind.choices,
            "kind": kind,
            "can_create": access.managed_series(request.user).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def new(request: AuthenticatedHttpRequest) -> HttpResponse:
    series = access.managed_series(request.user)
    if not series.exists():
        raise PermissionDenied(_("drafting documents needs the evaluation office"))
    today = timezone.localdate()
    form = NewDocumentForm(request.POST or None, series=series, today=today)

    def save(data: dict[str, Any]) -> Bulletin:
        return services.create_draft(
            data["series"], user=actor(request), period=data["period"], today=today
        )

    return form_page(
        request,
        form,
        save,
        title=_("New document"),
        back=reverse("bulletins:list"),
        done=_("Draft generated from the figures. Edit its text, then issue it."),
        then=lambda b: reverse("bulletins:edit", args=[b.pk]),
        intro=_(
            "The figures, tables and charts are generated from the scores and the ledger; "
            "you edit the text parts before issuing."
        ),
    )


@login_required
@require_POST
def brief(request: AuthenticatedHttpRequest, meeting: int) -> HttpResponse:
    """The dispatch brief of a meeting, drafted from its screen (the meeting page's button)."""
    found = get_object_or_404(Meeting.objects.select_related("unit"), pk=meeting)
    series = access.dispatch_series_for(request.user, found.unit)
    if series is None:
        raise PermissionDenied(_("no dispatch-brief series of yours covers this meeting"))
    return post_action(
        request,
        lambda: services.create_draft(
            series, user=actor(request), period=found.held_on.isoformat(), meeting=found
        ),
        back=reverse("meetings:meeting", args=[found.pk]),
        done=_("Draft generated from the figures. Edit its text, then issue it."),
        then=lambda b: reverse("bulletins:edit", args=[b.pk]),
    )


@login_required
def document(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    bulletin = _visible(request, pk)
    doc = documents.compose(bulletin)
    services.mark_read(bulletin, user=actor(request))
    return render(
        request,
        "bulletins/document.html",
        {
            "bulletin": bulletin,
            "document_html": documents.html(doc),
            "can_manage": access.can_manage(request.user, bulletin.issuer),
            "corrections": bulletin.corrections.filter(state=BulletinState.ISSUED),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    bulletin = _managed(request, pk)
    if bulletin.is_issued:
        raise PermissionDenied(_("an issued document cannot change: issue a correction"))
    parts = documents.text_parts(bulletin)
    initial = {"title": bulletin.title, "date_written": bulletin.date_written}
    initial.update(documents.texts(bulletin))
    form = TextsForm(request.POST or None, parts=parts, initial=initial)

    def save(data: dict[str, Any]) -> Bulletin:
        return services.edit_draft(
            bulletin,
            user=actor(request),
            title=data["title"],
            date_written=data["date_written"],
            texts={key: data.get(key) or "" for key in form.part_keys},
        )

    return form_page(
        request,
        form,
        save,
        title=_("Edit the draft"),
        back=_page(bulletin),
        done=_("Draft saved."),
        then=_page,
        template="bulletins/edit.html",
        context={
            "bulletin": bulletin,
            "document_html": documents.html(documents.compose(bulletin)),
        },
    )


@login_required
@require_POST
def issue(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    bulletin = _managed(request, pk)
    return post_action(
        request,
        lambda: services.issue(bulletin, user=actor(request)),
        back=_page(bulletin),
        done=_("Issued: numbered, published to every unit in scope, and kept as issued."),
    )


@login_required
@require_POST
def refresh(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    bulletin = _managed(request, pk)
    return post_action(
        request,
        lambda: services.refresh_draft(bulletin, user=actor(request)),
        back=_page(bulletin),
        done=_("Figures generated again from today's data; your texts are kept."),
    )


@login_required
@require_POST
def delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    bulletin = _managed(request, pk)
    return post_action(
        request,
        lambda: services.delete_draft(bulletin, user=actor(request)),
        back=_page(bulletin),
        done=_("Draft deleted."),
        then=lambda _r: reverse("bulletins:list"),
    )


@login_required
@require_POST
def correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    bulletin = _managed(request, pk)
    return post_action(
        request,
        lambda: services.correct(bulletin, user=actor(request)),
        back=_page(bulletin),
        done=_("A correcting draft was made; it gets its own number when issued."),
        then=lambda b: reverse("bulletins:edit", args=[b.pk]),
    )


@login_required
def file(request: AuthenticatedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    bulletin = _visible(request, pk)
    if fmt not in documents.CONTENT_TYPES:
        raise Http404(fmt)
    data = documents.stored_or_rendered(bulletin, fmt)
    return download(data, documents.filename(bulletin, fmt), documents.CONTENT_TYPES[fmt])
