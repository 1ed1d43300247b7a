"""Objects the citizen handlers need from the app's settings, built once in ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from portal.privacy.citizen_ids import CitizenIdVault
from portal.sms.outbox import SmsConfig


@dataclass(frozen=True)
class CitizenConfig:
    form_key: bytes
    sms: SmsConfig
    """The platform's SMS settings; filing sends with ``sms.for_office(office)``."""
    base_url: str
    """The platform's base URL; links to one office start at its ``OfficeRef.base_url``."""
    filings_per_phone_day: int = 5
    """Requests one phone may file in 24 hours (``PORTAL_FILINGS_PER_PHONE_DAILY_LIMIT``)."""
    vault: CitizenIdVault | None = None
    """Seals the citizen IDs a form carries, with keys from the settings' secret."""
