"""Staff passwords: argon2id hashes, a length floor and a list of passwords never to accept."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 256
COMMON_PASSWORDS = Path(__file__).resolve().parent / "common_passwords.txt"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-equal-timing")


class WeakPassword(ValueError):
    """``code``: ``too_short``, ``too_long``, ``too_common`` or ``like_username``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@cache
def _common() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def check_policy(password: str, username: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword("too_short")
    if len(password) > MAX_LENGTH:
        raise WeakPassword("too_long")
    lowered = password.lower()
    if lowered in _common():
        raise WeakPassword("too_common")
    if username and username.lower() in lowered:
        raise WeakPassword("like_username")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Always does the argon2 work, even for an unknown user or an account still waiting for
    its enrolment link (no hash yet), so timing tells nothing; no hash never matches."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
