"""What staff handlers need from the app's settings, built once in ``create_app``.

What differs per office (its base URL, phone, SMS sender and budget) is not here: handlers
take it from the request's ``OfficeRef``."""

from __future__ import annotations

from dataclasses import dataclass

from portal.kernel.client_net import DEFAULT_IPV6_PREFIX
from portal.sms.outbox import SmsConfig


@dataclass(frozen=True)
class StaffConfig:
    totp_key: bytes
    sms: SmsConfig
    """The platform's SMS settings; ``sms.for_office(office)`` gives an office's sender."""
    enrolment_key: bytes = b""
    """Keys the stored hash of enrolment-link tokens (derived from the portal secret)."""
    ipv6_prefix: int = DEFAULT_IPV6_PREFIX
    """How the sign-in throttle groups IPv6 addresses (``PORTAL_IPV6_PREFIX_LENGTH``)."""
