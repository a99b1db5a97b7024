"""A read-heavy page kept as rendered, until anything it could show has changed.

Every change of data in Duban writes an audit entry in the same transaction (the audit
trail's invariant), so the chain head's entry id is a version of the whole database: a page
rendered at head N is exactly the page at head N. A stored page is keyed by that id, the
day (task colours and overdue days move with the date), the reader's session (his scope,
his language, his CSRF token in the page) and the request itself, so it is never shown to
anyone else, nor after any change. The view authorises before asking, every time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language

from duban.audit.models import AuditHead

PAGES = "pages"  # settings.CACHES alias
KEPT_SECONDS = 600


def data_version() -> int:
    """The audit chain head's entry id: it moves with every change of data (one row, by key)."""
    return AuditHead.objects.filter(pk=1).values_list("last_entry_id", flat=True).first() or 0


def page_key(request: HttpRequest) -> str | None:
    """The key of this reader's page as of now; None when it must be rendered afresh (no
    session yet, or a message waiting to be shown once)."""
    session = getattr(request, "session", None)
    if session is None or not session.session_key or len(get_messages(request)):
        return None
    parts = (
        request.get_full_path(),
        request.headers.get("HX-Request", ""),
        session.session_key,
        get_language() or "",
        str(timezone.localdate()),
        str(data_version()),
    )
    return "page:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def kept_page(
    request: HttpRequest, render: Callable[[], tuple[HttpResponse, bool]]
) -> HttpResponse:
    """The stored page when it is current, else `render()` → (response, keep?) stored when
    it is a 200 the caller says may be kept (not one that says "being recomputed")."""
    key = page_key(request)
    store = caches[PAGES]
    if key is not None:
        hit = store.get(key)
        if hit is not None:
            content, content_type = hit
            return HttpResponse(content, content_type=content_type)
    response, keep = render()
    if key is not None and keep and response.status_code == 200 and not response.streaming:
        store.set(key, (response.content, response["Content-Type"]), KEPT_SECONDS)
    return response
