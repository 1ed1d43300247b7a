"""How citizens reach the office: the contact page every "ติดต่อเจ้าหน้าที่" links to, and the
phone number the SMS to a request's old number names.

Everything comes from the settings (``PORTAL_OFFICE_*``); the phone and e-mail fall back to the
privacy notice's (``PORTAL_PRIVACY_CONTACT_*``), which a small office often sets to the same
counter. What is not set is not shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from litestar import Litestar, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.settings import Settings, settings_of

logger = logging.getLogger("portal")


@dataclass(frozen=True)
class OfficeContact:
    phone: str = ""
    line_url: str = ""
    email: str = ""
    address: str = ""
    map_url: str = ""
    hours: str = ""
    """Empty: the usual government hours, in the page's language."""

    @classmethod
    def from_settings(cls, settings: Settings) -> OfficeContact:
        return cls(
            phone=settings.office_phone or settings.privacy_contact_phone,
            line_url=settings.office_line_url,
            email=settings.office_email or settings.privacy_contact_email,
            address=settings.office_address,
            map_url=settings.office_map_url,
            hours=settings.office_hours,
        )

    @property
    def dial(self) -> str:
        """The phone as a ``tel:`` link and an SMS carry it: digits (and a leading +) only."""
        plus = "+" if self.phone.startswith("+") else ""
        return plus + "".join(ch for ch in self.phone if ch.isascii() and ch.isdigit())

    @property
    def reachable(self) -> bool:
        """Anything beyond the office's name to show."""
        return bool(self.dial or self.line_url or self.email or self.address or self.map_url)


async def warn_if_unset(app: Litestar) -> None:
    """At start-up in production: a contact page without a phone leaves citizens stuck."""
    settings = settings_of(app)
    if settings.is_development:
        return
    if not OfficeContact.from_settings(settings).dial:
        logger.warning(
            "PORTAL_OFFICE_PHONE is not set: the contact page (/contact) shows no phone number"
        )


@get("/contact", name="contact")
async def contact_page(settings: NamedDependency[Settings]) -> Template:
    return Template(
        template_name="citizen/contact.html",
        context={"contact": OfficeContact.from_settings(settings)},
    )
