"""The form's one-time key.

It names one submission, so a double click or a refresh files one request; and it carries a
MAC over the browser id, the phone and the verification (the id of the code that passed) that
were current when the form was shown. A citizen who types for longer than the verification
window (an older person writing a long complaint) therefore keeps their words: the key still
vouches for them, from the same browser, for ``FORM_KEY_MAX_AGE``.

It never files twice: filing consumes the verification it names (``consume_verification``), so
every other key issued under that verification, however many page loads collected, is dead.

The key is also the form's upload group and the request's ``submission_key`` (both 64
characters at most): 16 + 1 + 10 + 1 + 12 + 1 + 22 = 63. No room for a key id: the MAC is
checked under each configured key (``portal.keyring``), newest first.

The MAC also covers the office the form was shown at, so a key never vouches at another office
(the default office's keys are MACed as before offices existed: forms open across the upgrade
still file).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from portal.keyring import as_ring
from portal.tables.office import DEFAULT_OFFICE_ID

FORM_KEY_MAX_AGE = timedelta(hours=12)
KEY_PATTERN = re.compile(
    r"(?P<nonce>[A-Za-z0-9_-]{16})\.(?P<issued>[0-9]{10})\.(?P<verification>[1-9][0-9]{0,11})"
    r"\.(?P<mac>[0-9a-f]{22})"
)


def _mac(
    secret: bytes,
    nonce: str,
    issued: int,
    verification: int,
    browser: str,
    phone: str,
    office_id: int,
) -> str:
    text = f"{nonce}.{issued}.{verification}.{browser}.{phone}"
    if office_id != DEFAULT_OFFICE_ID:
        text += f".{office_id}"  # a phone (E.164) has no dot: the message stays unambiguous
    message = text.encode()
    return hmac.new(bytes(secret), message, hashlib.sha256).hexdigest()[:22]


def issue_form_key(
    secret: bytes, *, browser: str, phone: str, verification: int, now: datetime, office_id: int
) -> str:
    nonce = secrets.token_urlsafe(12)
    issued = int(now.timestamp())
    mac = _mac(secret, nonce, issued, verification, browser, phone, office_id)
    return f"{nonce}.{issued:010d}.{verification}.{mac}"


def is_form_key(key: str) -> bool:
    return KEY_PATTERN.fullmatch(key) is not None


def form_key_verification(
    secret: bytes, key: str, *, browser: str, phone: str, now: datetime, office_id: int
) -> int | None:
    """The verification the key was issued under, when it was issued to this browser for
    ``phone`` at this office recently; otherwise None."""
    match = KEY_PATTERN.fullmatch(key)
    if match is None:
        return None
    issued = int(match["issued"])
    if not 0 <= now.timestamp() - issued <= FORM_KEY_MAX_AGE.total_seconds():
        return None
    verification = int(match["verification"])
    # Every configured key: a form opened before PORTAL_SECRET_KEY changed still files.
    for each in as_ring(secret).keys:
        expected = _mac(each, match["nonce"], issued, verification, browser, phone, office_id)
        if hmac.compare_digest(expected, match["mac"]):
            return verification
    return None
