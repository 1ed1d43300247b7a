"""Tracking tokens: the credential in the SMS link."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 16
"""128 random bits (the minimum required), exactly 22 URL-safe characters: the SMS with the link
fits one Thai part (``portal/sms/parts.py``). Tokens sent before were 24 characters (18 bytes)
and keep working: they are looked up by digest, whatever their length."""
TOKEN_LENGTH = -(-TOKEN_BYTES * 4 // 3)
"""22: base64url without padding."""
TRACKING_PATH = "/t/"
"""One letter: every character of the link is one less for the Thai words in the SMS."""


def new_tracking_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def tracking_link(base: str, token: str) -> str:
    """The link to a request's status page: ``base`` is the SMS link base or the portal's."""
    return f"{base}{TRACKING_PATH}{token}"


def token_digest(token: str) -> str:
    """Looked up by digest, so the database index never compares the secret itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    """Today's 22-character tokens and the 24-character ones already out in SMS."""
    return 16 <= len(token) <= 64 and all(ch.isalnum() or ch in "-_" for ch in token)
