"""The privacy notice (PDPA sections 23 and 24): one page, linked from every form and the
footer, in Thai and (through the catalogue) English."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.settings import Settings

DAYS_PER_YEAR = 365


@get("/privacy", name="privacy_notice")
async def privacy_notice(settings: NamedDependency[Settings]) -> Template:
    """Retention and contact come from the settings, so the notice says what the portal does."""
    return Template(
        template_name="privacy/notice.html",
        context={
            "retention_days": settings.retention_days,
            "retention_years": settings.retention_days // DAYS_PER_YEAR,
            "contact_phone": settings.privacy_contact_phone,
            "contact_email": settings.privacy_contact_email,
        },
    )
