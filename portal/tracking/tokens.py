"""Tracking tokens: the credential in the SMS link."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 18
"""144 random bits (at least 128 are required), 24 URL-safe characters in the SMS."""


def new_tracking_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """Looked up by digest, so the database index never compares the secret itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return 16 <= len(token) <= 64 and all(ch.isalnum() or ch in "-_" for ch in token)
