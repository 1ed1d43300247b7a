"""What staff handlers need from the app's settings, built once in ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from portal.sms.outbox import SmsConfig


@dataclass(frozen=True)
class StaffConfig:
    totp_key: bytes
    sms: SmsConfig
    base_url: str
    sms_daily_limit: int
