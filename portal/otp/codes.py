"""Making and checking SMS codes without ever storing one."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from portal.keyring import as_ring

CODE_DIGITS = 6


def new_code() -> str:
    """Six digits from the operating system's CSPRNG."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def code_hash(key: bytes, *, phone: str, purpose: str, bound_session: str, code: str) -> str:
    """A keyed hash that also binds the code to phone, purpose and browser session.

    Without the key a stolen table gives nothing: a six-digit space is trivial to search,
    so a plain hash would not do.
    """
    message = f"{phone}|{purpose}|{bound_session}|{code}".encode()
    return hmac.new(bytes(key), message, hashlib.sha256).hexdigest()


def code_matches(
    key: bytes, stored: str, *, phone: str, purpose: str, bound_session: str, code: str
) -> bool:
    """``code`` is the one hashed into ``stored``, under any configured key: a code sent just
    before ``PORTAL_SECRET_KEY`` changed still works for its few minutes. The stored hash
    (64 characters, the column's width) has no room for a key id, so each key is tried."""
    return any(
        hmac.compare_digest(
            code_hash(each, phone=phone, purpose=purpose, bound_session=bound_session, code=code),
            stored,
        )
        for each in as_ring(key).keys
    )


def normalise_code(raw: str) -> str:
    """Accept what people actually type: Thai digits (๑๒๓), spaces and dashes between groups."""
    kept = (ch for ch in raw if ch not in " -\u00a0\t")
    return "".join(str(unicodedata.digit(ch)) if ch.isdecimal() else ch for ch in kept)


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()
