"""What every OTP step needs from the settings, built once in ``create_app`` and received by
handlers as the ``otp`` dependency."""

from __future__ import annotations

from dataclasses import dataclass

from portal.otp.policy import OtpPolicy
from portal.sms.outbox import SmsConfig


@dataclass(frozen=True)
class OtpConfig:
    key: bytes
    """Keys the codes' hashes (``settings.derive_key("otp-code")``)."""
    policy: OtpPolicy
    sms: SmsConfig
