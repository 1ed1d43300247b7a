"""The keys of one purpose: the current one, and those derived from earlier secrets.

``PORTAL_SECRET_KEY`` can be changed (a leak, staff leaving, a yearly routine) without losing
what the old secret sealed or signed: the old secrets go into ``PORTAL_OLD_SECRET_KEYS``, and
everything that checks or opens a value tries them after the current key, while everything
that seals or signs uses the current key only. ``portal keys rotate`` then re-seals the stored
values (citizen IDs, authenticator secrets) so the old secrets can be dropped.

``KeyRing`` *is* the current key (a ``bytes``), so code that only seals or signs keeps taking
it as one; code that checks reads ``ring.keys`` (newest first) from the same value. A plain
``bytes`` given where a ring is expected is a ring of one key (``as_ring``), which keeps
hand-built configurations and tests working.

Each key has a short, stable id (``key_id``) that new ciphertexts carry, so a value says which
key opens it and ``portal keys rotate`` can tell what still needs re-sealing without trying.
The id is a MAC of a fixed label under the key: it names the key without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_ID_HEX = 8
"""32 bits: enough to tell a handful of secrets apart; a collision only costs one more try."""


def key_id(key: bytes) -> str:
    return hmac.new(bytes(key), b"portal-key-id", hashlib.sha256).hexdigest()[:KEY_ID_HEX]


class KeyRing(bytes):
    """The current key for one purpose, carrying the older keys for the same purpose."""

    older: tuple[bytes, ...]

    def __new__(cls, current: bytes, older: tuple[bytes, ...] = ()) -> KeyRing:
        ring = super().__new__(cls, current)
        ring.older = tuple(bytes(key) for key in older if bytes(key) != bytes(current))
        return ring

    @property
    def current(self) -> bytes:
        return bytes(self)

    @property
    def keys(self) -> tuple[bytes, ...]:
        """Newest first: the current key, then the older ones in the order configured."""
        return (self.current, *self.older)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def by_id(self, wanted: str) -> bytes | None:
        return next((key for key in self.keys if key_id(key) == wanted), None)


def as_ring(key: bytes) -> KeyRing:
    return key if isinstance(key, KeyRing) else KeyRing(key)


def derive(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so one secret never signs two kinds of thing."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def derive_ring(secret: str, old_secrets: tuple[str, ...], purpose: str) -> KeyRing:
    return KeyRing(derive(secret, purpose), tuple(derive(old, purpose) for old in old_secrets))
