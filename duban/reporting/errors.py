"""The reporting app's one error type, and its 409 form for data whose state forbids a write."""

from __future__ import annotations

from duban.errors import ConflictError, DubanError


class ReportingError(DubanError):
    """A figure, form or file that cannot be accepted; nothing was changed."""


class ReportingConflict(ReportingError, ConflictError):
    """The input is fine but the data is submitted, approved, locked or closed for entry."""
