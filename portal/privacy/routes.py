"""The privacy notice (PDPA sections 23 and 24): one page, linked from every form and the
footer, in Thai and (through the catalogue) English."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.kernel.offices import OfficeRef

DAYS_PER_YEAR = 365


@get("/privacy", name="privacy_notice")
async def privacy_notice(office: NamedDependency[OfficeRef]) -> Template:
    """Each office is the controller of what it collects: the notice names it (the template's
    ``current_office()``) and gives its own retention and privacy contact. The platform's
    settings fill in what the office left empty (``OfficeRef``), and an office without a
    privacy contact of its own is reached at its own phone and e-mail."""
    return Template(
        template_name="privacy/notice.html",
        context={
            "retention_days": office.retention_days,
            "retention_years": office.retention_days // DAYS_PER_YEAR,
            "contact_phone": office.privacy_contact_phone or office.phone,
            "contact_email": office.privacy_contact_email or office.email,
        },
    )
