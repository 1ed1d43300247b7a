"""How citizens reach the office: the contact page every "ติดต่อเจ้าหน้าที่" links to, and the
phone number the SMS to a request's old number names.

Everything comes from the office answering the request (``OfficeRef``: its own contact columns,
with the platform's ``PORTAL_OFFICE_*`` / ``PORTAL_PRIVACY_CONTACT_*`` filled in where the
default office leaves them to the settings); the phone and e-mail fall back to the privacy
contact, which a small office often sets to the same counter. What is not set is not shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from litestar import Litestar, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.kernel.offices import OfficeRef, dial_digits
from portal.settings import Settings, settings_of
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.web.offices import OFFICES_STATE_KEY

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
    def of(cls, office: OfficeRef) -> OfficeContact:
        """The office's own contact (``OfficeRef`` already fell back to the privacy contact)."""
        return cls(
            phone=office.phone,
            line_url=office.line_url,
            email=office.email,
            address=office.address,
            map_url=office.map_url,
            hours=office.hours,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OfficeContact:
        """The default office's contact as ``PORTAL_OFFICE_*`` set it (``portal check`` reads
        the configuration before any database is there)."""
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
        return dial_digits(self.phone)

    @property
    def reachable(self) -> bool:
        """Anything beyond the office's name to show."""
        return bool(self.dial or self.line_url or self.email or self.address or self.map_url)


async def warn_if_unset(app: Litestar) -> None:
    """At start-up in production: a contact page without a phone leaves citizens stuck.

    Only the default office's (the one ``PORTAL_OFFICE_*`` configures): other offices are set
    up on the platform page, which shows what each one lacks."""
    settings = settings_of(app)
    if settings.is_development:
        return
    directory = app.state.get(OFFICES_STATE_KEY)
    office = await directory.by_id(DEFAULT_OFFICE_ID) if directory is not None else None
    contact = OfficeContact.of(office) if office else OfficeContact.from_settings(settings)
    if not contact.dial:
        logger.warning(
            "PORTAL_OFFICE_PHONE is not set: the contact page (/contact) shows no phone number"
        )


@get("/contact", name="contact")
async def contact_page(office: NamedDependency[OfficeRef]) -> Template:
    """The contact page of the office the request reached (its host or ``/o/<slug>/``)."""
    return Template(
        template_name="citizen/contact.html", context={"contact": OfficeContact.of(office)}
    )
