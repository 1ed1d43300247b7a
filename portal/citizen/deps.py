"""Objects the citizen handlers need from the app's settings, built once in ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from portal.otp.policy import OtpPolicy
from portal.sms.outbox import SmsConfig


@dataclass(frozen=True)
class CitizenConfig:
    otp_key: bytes
    form_key: bytes
    otp_policy: OtpPolicy
    sms: SmsConfig
    base_url: str
