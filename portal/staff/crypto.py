"""Encrypting the authenticator secrets at rest (AES-GCM, key derived from the portal secret):
a copy of the database alone does not let anyone produce staff codes.

The same sealing protects citizen IDs (``portal.privacy.citizen_ids``) with its own key and
``context`` (bound into each ciphertext as associated data), so a value sealed for one use
never opens as the other."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def encrypt(key: bytes, plaintext: str, *, context: bytes = b"staff-totp") -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(key: bytes, token: str, *, context: bytes = b"staff-totp") -> str:
    raw = base64.urlsafe_b64decode(token.encode())
    return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context).decode()
