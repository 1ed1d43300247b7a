"""Authenticator-app codes (TOTP, RFC 6238) with pyotp, and the step that makes replay fail."""

from __future__ import annotations

from datetime import datetime

import pyotp

ISSUER = "OSS-LOCAL e-Service"
ACCEPTED_DRIFT_STEPS = 1
"""One 30-second step either side, for a phone clock that is a little off."""


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matching_step(secret: str | None, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to, or None. The caller refuses steps already used.

    No secret (one that no configured key opens, see ``portal.kernel.sealing``) matches no
    code: the colleague is refused like for a wrong code and needs a reset link."""
    code = code.strip().replace(" ", "")
    if not secret or len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - ACCEPTED_DRIFT_STEPS, current + ACCEPTED_DRIFT_STEPS + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
