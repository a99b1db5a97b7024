"""Operational logging: one key=value line per event, with the request and the actor.

Each app logs through `logging.getLogger(__name__)` (so `duban.reporting.importing` sits under
`duban.reporting`); settings.LOGGING sends every line through `ContextFilter`, which adds the
request id, the actor and the source from the audit context, and `KeyValueFormatter`:

    at=2026-12-02T05:30:00.123Z level=INFO logger=duban.reporting.importing request=3f2a9c1d0b7e
    user=county_reporter source=web msg="import finished" rows=120 created=118 seconds=0.412

Fields passed as `extra={...}` follow the message in the order given. The audit trail says
what changed and who did it; these lines say what the server did and how long it took
(docs/deployment.md, "Logs").
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from duban.audit.context import current

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request",
    "user",
    "source",
}


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if text and all(c.isalnum() or c in "-_.:/@+,#" for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)  # quoted, with spaces and quotes escaped


class ContextFilter(logging.Filter):
    """Adds `request`, `user` and `source` from the audit context (set by the request
    middleware and by `acting_as` in commands) to every record; "-" where there is none."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current()
        actor = ctx.actor
        record.request = ctx.request_id or "-"
        record.user = actor.get_username() if actor is not None else "-"
        record.source = ctx.source or "-"
        return True


class KeyValueFormatter(logging.Formatter):
    """`at=… level=… logger=… request=… user=… source=… msg="…" key=value …`."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        parts = [
            f"at={at.replace('+00:00', 'Z')}",
            f"level={record.levelname}",
            f"logger={record.name}",
        ]
        for key in ("request", "user", "source"):
            if hasattr(record, key):
                parts.append(f"{key}={_value(getattr(record, key))}")
        parts.append(f"msg={_value(record.getMessage())}")
        parts += [f"{k}={_value(v)}" for k, v in vars(record).items() if k not in _STANDARD]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def fields(**values: Any) -> dict[str, Any]:
    """`extra` for a log call, safe: a name a LogRecord already has (`created`, `name`,
    `module` …) would make the call raise, so it gets a trailing underscore."""
    return {f"{k}_" if k in _STANDARD else k: v for k, v in values.items()}


@contextmanager
def timed(log: logging.Logger, what: str, **given: Any) -> Iterator[dict[str, Any]]:
    """Log `<what> started`, then `<what> finished` with the fields the block adds to the
    yielded dict and `seconds`; `<what> failed` at WARNING when it raises."""
    log.info("%s started", what, extra=fields(**given))
    start = time.perf_counter()
    out: dict[str, Any] = dict(given)
    try:
        yield out
    except Exception as exc:
        out["seconds"] = round(time.perf_counter() - start, 3)
        out["error"] = type(exc).__name__
        log.warning("%s failed", what, extra=fields(**out))
        raise
    out["seconds"] = round(time.perf_counter() - start, 3)
    log.info("%s finished", what, extra=fields(**out))
