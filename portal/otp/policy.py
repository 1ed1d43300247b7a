"""The numbers of DESIGN.md section 5, in one place so tests and limits agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class OtpPolicy:
    validity: timedelta = timedelta(minutes=5)
    wrong_tries_per_code: int = 5
    wrong_tries_per_phone: int = 10
    wrong_tries_window: timedelta = timedelta(hours=24)
    resend_after: timedelta = timedelta(seconds=60)
    sends_per_phone_short: int = 3
    short_window: timedelta = timedelta(minutes=15)
    sends_per_phone_day: int = 10
    sends_per_ip_hour: int = 10
    daily_budget: int = 2000
    verified_for: timedelta = timedelta(minutes=30)
    """How long a passed check lets the browser file requests before asking again (idle)."""
    tracking_idle: timedelta = timedelta(minutes=15)
    """How long a passed tracking check lets the browser read its requests while idle."""
