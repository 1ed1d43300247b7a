"""The form's one-time key.

It names one submission, so a double click or a refresh files one request; and it carries a
MAC over the browser id and phone that were verified when the form was shown. A citizen who
types for longer than the verification window (an older person writing a long complaint)
therefore keeps their words: the key still vouches for them, from the same browser, for
``FORM_KEY_MAX_AGE``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

FORM_KEY_MAX_AGE = timedelta(hours=12)
KEY_PATTERN = re.compile(
    r"(?P<nonce>[A-Za-z0-9_-]{22})\.(?P<issued>[0-9]{10})\.(?P<mac>[0-9a-f]{24})"
)


def _mac(secret: bytes, nonce: str, issued: int, browser: str, phone: str) -> str:
    message = f"{nonce}.{issued}.{browser}.{phone}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:24]


def issue_form_key(secret: bytes, *, browser: str, phone: str, now: datetime) -> str:
    nonce = secrets.token_urlsafe(16)
    issued = int(now.timestamp())
    return f"{nonce}.{issued:010d}.{_mac(secret, nonce, issued, browser, phone)}"


def is_form_key(key: str) -> bool:
    return KEY_PATTERN.fullmatch(key) is not None


def form_key_vouches(secret: bytes, key: str, *, browser: str, phone: str, now: datetime) -> bool:
    """True when this browser was verified for ``phone`` when the form was shown, recently."""
    match = KEY_PATTERN.fullmatch(key)
    if match is None:
        return False
    issued = int(match["issued"])
    if not 0 <= now.timestamp() - issued <= FORM_KEY_MAX_AGE.total_seconds():
        return False
    expected = _mac(secret, match["nonce"], issued, browser, phone)
    return hmac.compare_digest(expected, match["mac"])
