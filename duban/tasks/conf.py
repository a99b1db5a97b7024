"""Task settings, read at call time so tests can override them (documented in docs/tasks.md)."""

from __future__ import annotations

from django.conf import settings

from duban.tasks.status import Thresholds


def _int(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _days(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted({int(d) for d in getattr(settings, name, default)}))


def thresholds() -> Thresholds:
    return Thresholds(
        warn_days=_int("DUBAN_TASK_WARN_DAYS", 7),
        behind_points=_int("DUBAN_TASK_BEHIND_POINTS", 20),
    )


def remind_days_before() -> tuple[int, ...]:
    return _days("DUBAN_TASK_REMIND_DAYS_BEFORE", (7, 1))


def remind_days_after() -> tuple[int, ...]:
    return _days("DUBAN_TASK_REMIND_DAYS_AFTER", (1, 7))


def supervision_after() -> tuple[int, ...]:
    return _days("DUBAN_TASK_SUPERVISE_DAYS_AFTER", (14, 30))


def supervision_reply_days() -> int:
    return _int("DUBAN_TASK_SUPERVISION_REPLY_DAYS", 5)


def monthly_report_day() -> int:
    """From this day of the month a lead unit without a report this month is reminded; 0: never."""
    return _int("DUBAN_TASK_MONTHLY_REPORT_DAY", 25)


def evidence_max_bytes() -> int:
    return _int("DUBAN_TASK_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)


EVIDENCE_EXTENSIONS = frozenset(
    {
        "pdf",
        "jpg",
        "jpeg",
        "png",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "ppt",
        "pptx",
        "txt",
        "ofd",
        "wps",
        "zip",
    }
)


def email_enabled() -> bool:
    """E-mail only when configured: DUBAN_TASK_EMAIL forces it either way; otherwise an SMTP
    backend needs an EMAIL_HOST other than Django's default, and any other backend
    (locmem in tests, console, file) counts as configured."""
    forced = getattr(settings, "DUBAN_TASK_EMAIL", None)
    if forced is not None:
        return bool(forced)
    backend = getattr(settings, "EMAIL_BACKEND", "")
    if backend == "django.core.mail.backends.smtp.EmailBackend":
        return getattr(settings, "EMAIL_HOST", "localhost") not in ("", "localhost")
    return bool(backend)
