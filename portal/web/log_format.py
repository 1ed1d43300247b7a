"""Log lines: JSON lines in production (``PORTAL_LOG_FORMAT=json``), readable text otherwise.

Every record logged while a request is being answered carries that request's id (see
``portal.web.request_id``), so the one request line and an error's traceback can be found
together. The request line itself (``request_line``) holds the method, the route's template
(``/t/{token}``, never the address with the token in it), the status and the time taken: no
query string, no client address, no phone number.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from portal.web.request_id import current_request_id

ACCESS_LOGGER = "portal.access"
access_logger = logging.getLogger(ACCESS_LOGGER)

REQUEST_FIELDS = ("method", "route", "status", "duration_ms")
"""Attributes ``request_line`` puts on its record (``extra``), written as fields in JSON."""


def request_line(
    *, request_id: str, method: str, route: str | None, status: int, duration_ms: float
) -> None:
    """The one line per request (``/healthz``, ``/readyz`` and ``/metrics`` write none)."""
    shown = route or "-"
    access_logger.info(
        "%s %s %d %.1fms",
        method,
        shown,
        status,
        duration_ms,
        extra={
            "request_id": request_id,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(duration_ms, 1),
        },
    )


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_id(record: logging.LogRecord) -> str | None:
    found = getattr(record, "request_id", None)
    return found if isinstance(found, str) else current_request_id()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, ``request_id``,
    the request fields on a request line, and ``exception`` (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id(record)
        if request_id is not None:
            entry["request_id"] = request_id
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-12-03T13:00:00.000Z INFO portal.access [7KQ2M9XDHF] GET /track 200 3.1ms``."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = _request_id(record)
        tag = f" [{request_id}]" if request_id else ""
        line = f"{_timestamp(record)} {record.levelname} {record.name}{tag} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter_class(log_format: str) -> type[logging.Formatter]:
    return JsonFormatter if log_format == "json" else TextFormatter
