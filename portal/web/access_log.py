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


def uvicorn_log_config(log_format: str = "text") -> dict[str, Any]:
    """The logging of every ``portal serve`` process (uvicorn applies it in each worker).

    The portal writes its own line per request (``portal.access``, see
    ``portal.web.log_format``) and ``portal serve`` turns uvicorn's access log off, so there
    is exactly one line per request; ``RedactSecrets`` stays on uvicorn's access handler for
    anyone who turns it back on. ``log_format`` is ``PORTAL_LOG_FORMAT``: ``json`` writes every
    line as a JSON object (uvicorn's own messages too), ``text`` keeps uvicorn's look for its
    messages and the portal's text lines for the rest. Other libraries log warnings and up.
    """
    from uvicorn.config import LOGGING_CONFIG

    from portal.web.log_format import formatter_class

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    config["handlers"]["access"].setdefault("filters", []).append("redact_secrets")
    portal_formatter = formatter_class(log_format)
    config["formatters"]["portal"] = {
        "()": f"{portal_formatter.__module__}.{portal_formatter.__qualname__}"
    }
    config["handlers"]["portal"] = {
        "formatter": "portal",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    if log_format == "json":
        config["handlers"]["default"]["formatter"] = "portal"
        config["handlers"]["access"]["formatter"] = "portal"
    # The portal's records reach the root's handler; other libraries stop at warnings.
    config["loggers"]["portal"] = {"level": "INFO"}
    config["root"] = {"handlers": ["portal"], "level": "WARNING"}
    return config
