"""Encrypting the authenticator secrets at rest (AES-GCM, key derived from the portal secret):
a copy of the database alone does not let anyone produce staff codes.

The same sealing protects citizen IDs (``portal.privacy.citizen_ids``) with its own key and
``context`` (bound into each ciphertext as associated data), so a value sealed for one use
never opens as the other.

A ciphertext names the key that sealed it: ``k<key id>$<base64>`` (``portal.keyring``), so
after ``PORTAL_SECRET_KEY`` changes it still opens with the old secret (listed in
``PORTAL_OLD_SECRET_KEYS``) and ``portal keys rotate`` knows which values to re-seal. Values
sealed before key ids existed (plain base64, no ``$``) are opened by trying each key.

A value no key opens (its secret was dropped, or the text was damaged) opens as ``None`` and
is logged, without the value: callers treat it as absent rather than fail the page.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from portal.keyring import as_ring, key_id

NONCE_BYTES = 12
ID_PREFIX = "k"
ID_SEPARATOR = "$"
"""Not in the URL-safe base64 alphabet: a value with it has a key id, one without is older."""

logger = logging.getLogger("portal.keys")


def encrypt(key: bytes, plaintext: str, *, context: bytes = b"staff-totp") -> str:
    """Sealed with the current key (the ring's first), named by its id."""
    current = as_ring(key).current
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(current).encrypt(nonce, plaintext.encode(), context)
    encoded = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{ID_PREFIX}{key_id(current)}{ID_SEPARATOR}{encoded}"


def sealed_key_id(token: str) -> str | None:
    """The id of the key ``token`` was sealed with; None for a value from before key ids."""
    head, separator, _ = token.partition(ID_SEPARATOR)
    if not separator or not head.startswith(ID_PREFIX):
        return None
    return head[len(ID_PREFIX) :]


def is_current(key: bytes, token: str) -> bool:
    """Sealed with the current key: nothing for ``portal keys rotate`` to do."""
    return sealed_key_id(token) == as_ring(key).current_id


def _open_with(key: bytes, raw: bytes, context: bytes) -> str | None:
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context).decode()
    except (InvalidTag, ValueError):
        return None


def decrypt(key: bytes, token: str, *, context: bytes = b"staff-totp") -> str | None:
    """The plaintext, or None when no key of the ring opens ``token`` (logged as a warning)."""
    ring = as_ring(key)
    wanted = sealed_key_id(token)
    encoded = token.partition(ID_SEPARATOR)[2] if wanted is not None else token
    try:
        raw = base64.urlsafe_b64decode(encoded.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if wanted is not None:
        candidates: tuple[bytes, ...] = tuple(k for k in ring.keys if key_id(k) == wanted)
    else:
        candidates = ring.keys
    for candidate in candidates:
        if len(raw) > NONCE_BYTES and (opened := _open_with(candidate, raw, context)) is not None:
            return opened
    logger.warning(
        "a sealed %s value opens with no configured key (key id %s): treated as absent",
        context.decode(errors="replace"),
        wanted or "none, sealed before key ids",
    )
    return None
