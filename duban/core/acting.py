"""Attribute audit entries to the acting user when a service is called outside a request."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from duban.audit.context import acting_as, current

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def as_user(user: Any) -> Iterator[None]:
    """Inside a request the middleware already names the actor; commands and tests do not."""
    if user is not None and current().actor is None:
        with acting_as(actor=user):
            yield
    else:
        yield


def attributed(fn: F) -> F:
    """Run a service `fn(obj, *, user, ...)` with its `user` as the audit actor."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with as_user(kwargs.get("user")):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
