"""Who is acting, from where and why: carried in a context variable.

The request middleware sets it for web and API requests; commands and services
set it with `acting_as(...)`. Audit entries read it, so a model save anywhere
inside the block is attributed without passing the user through every call.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from duban.orgs.policy import Actor


@dataclass(frozen=True)
class AuditContext:
    actor: Actor | None = None  # None: nobody signed in (a login page, a command's start)
    ip: str | None = None
    source: str = "system"
    reason: str = ""
    request_id: str = ""  # set per request by the middleware; named in every log line


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "duban_audit_context", default=AuditContext()
)


def current() -> AuditContext:
    return _current.get()


@contextlib.contextmanager
def acting_as(**changes: Any) -> Iterator[AuditContext]:
    """Override parts of the current context (actor, ip, source, reason) for a block."""
    ctx = replace(_current.get(), **changes)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def with_reason(reason: str) -> contextlib.AbstractContextManager[AuditContext]:
    return acting_as(reason=reason)
