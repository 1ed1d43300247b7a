"""Reads tracking tests need that the portal itself does not, and the offices they run at."""

from __future__ import annotations

from portal.kernel.offices import OfficeRef
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID

BASE_URL = "https://eservice.example.go.th"


def office_ref(office_id: int = DEFAULT_OFFICE_ID, slug: str = "default") -> OfficeRef:
    """An office as services see it, for tests that call them without an app (only its id
    scopes the queries; links start at ``BASE_URL``)."""
    return OfficeRef(
        id=office_id,
        slug=slug,
        name=f"เทศบาลตำบล{slug}",
        base_url=BASE_URL,
        sms_link_base=BASE_URL,
    )


HERE = office_ref()
"""The default office (id 1), where every test files unless it makes another."""


async def phone_has_requests(phone: str, office_id: int = DEFAULT_OFFICE_ID) -> bool:
    return bool(
        await CitizenRequest.exists().where(
            CitizenRequest.phone == phone, CitizenRequest.office == office_id
        )
    )
