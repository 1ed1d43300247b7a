"""One id per request: in the response header, on every log line, on the citizen's error page.

A citizen who reads "เลขอ้างอิง 7KQ2M9XDHF" to the office over the phone gives the IT person the
exact log line of what went wrong, without anyone handling a phone number or a tracking link.

The id is ours (ten characters from an alphabet without look-alikes: 0/O, 1/I/L) unless the
portal sits behind a proxy (``PORTAL_FORWARDED_ALLOW_IPS`` set) that sends ``X-Request-ID``,
such as nginx's ``$request_id``: then the proxy's own log and ours share the id. A value from
outside is accepted only if it is short and plain (letters, digits, ``.``, ``_``, ``-``), so
nothing can be smuggled into a log line or a page through it.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

HEADER = "x-request-id"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")

current: ContextVar[str | None] = ContextVar("portal_request_id", default=None)
"""The id of the request this code runs for (None outside a request: start-up, the SMS worker)."""


def new_request_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def request_id_for(headers: list[tuple[bytes, bytes]], *, behind_proxy: bool) -> str:
    """The proxy's id when one is trusted and sane, else a fresh one."""
    if behind_proxy:
        for name, value in headers:
            if name == HEADER.encode():
                text = value.decode("latin-1")
                if _SANE.fullmatch(text):
                    return text
                break
    return new_request_id()


def current_request_id() -> str | None:
    return current.get()
