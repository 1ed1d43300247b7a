"""The access log without credentials or personal data in its paths.

Uvicorn logs every request line, and some of our URLs are secrets: the tracking link
``/t/<token>`` opens a citizen's request to whoever holds it, a staff enrolment link
``/staff/enrol/<token>`` sets an account's password, and a delivery-report URL carries
the gateway's token. Query strings can hold what staff searched for (a phone number, a name).
The filter rewrites the path in each access record before any handler formats it, in every
worker process (``log_config`` below is what uvicorn hands each worker).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

REDACTED = "[redacted]"
_SECRET_PATHS = re.compile(r"^(/t/|/staff/enrol/|/sms/reports/[^/?]+/)[^/?]+")
_QUERY_VALUE = re.compile(r"=[^&]*")


def redact_path(path: str) -> str:
    """``/t/AbC...?x=1`` -> ``/t/[redacted]?x=[redacted]``; other paths keep their shape."""
    path, question, query = path.partition("?")
    path = _SECRET_PATHS.sub(lambda m: m.group(1) + REDACTED, path)
    if question:
        query = _QUERY_VALUE.sub("=" + REDACTED, query)
    return path + question + query


class RedactSecrets(logging.Filter):
    """For ``uvicorn.access``, whose record args are (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """Uvicorn's own logging configuration with ``RedactSecrets`` on the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    config["handlers"]["access"].setdefault("filters", []).append("redact_secrets")
    return config
