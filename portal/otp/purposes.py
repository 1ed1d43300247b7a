"""What a code is for, and how long its check lasts: the one description every OTP step,
dependency and guard of a purpose is built from.

A code, its hash and its session state are bound to the purpose's ``key`` (the
``otp_challenge.purpose`` column, 16 characters at most): a phone proved for filing is not
proved for reading, and the other way round. A new purpose (say, reopening a request) is one
more ``Purpose`` in its own feature; nothing here needs to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from portal.otp.policy import OtpPolicy
from portal.tables.otp_challenge import OtpPurpose


@dataclass(frozen=True)
class Purpose:
    key: str
    window: Callable[[OtpPolicy], timedelta]
    """How long a passed check lasts while idle, from the office's policy."""


def _filing_window(policy: OtpPolicy) -> timedelta:
    return policy.verified_for


def _tracking_window(policy: OtpPolicy) -> timedelta:
    return policy.tracking_idle


SUBMIT = Purpose(OtpPurpose.submit, _filing_window)
"""Filing a request (the citizen journey): the check lets the browser open and send forms."""
TRACK = Purpose(OtpPurpose.track, _tracking_window)
"""Reading the phone's requests (tracking way 2)."""
