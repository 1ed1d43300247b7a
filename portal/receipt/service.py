"""What a receipt says, read through the SMS link's own lookup.

The receipt is reached by the tracking token alone, like way 1 of the manual's step 6, so it
holds no more than the tracking page shows: no phone, no citizen ID, nothing the citizen wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.kernel.offices import OfficeRef
from portal.kernel.tracking_links import tracking_link
from portal.tables.citizen_request import CitizenRequest
from portal.tracking.service import find_by_token


@dataclass(frozen=True)
class Receipt:
    number: str
    service_name: str
    service_name_en: str
    status: str
    created_at: datetime
    target_days: int
    tracking_url: str

    @property
    def expected_by(self) -> datetime:
        """Calendar days from filing, as the back office counts a request overdue."""
        return self.created_at + timedelta(days=self.target_days)


async def receipt_for_token(token: str, *, office: OfficeRef) -> Receipt | None:
    """The receipt behind ``/t/<token>`` at ``office``; None for every token that page would
    refuse, another office's request included. Its link starts at the office's own address."""
    tracked = await find_by_token(token, office=office)
    if tracked is None:
        return None
    row = (
        await CitizenRequest.select(CitizenRequest.service.target_days.as_alias("target_days"))
        .where(CitizenRequest.office == office.id, CitizenRequest.number == tracked.number)
        .first()
    )
    if row is None:  # deleted between the two reads
        return None
    return Receipt(
        number=tracked.number,
        service_name=tracked.service_name,
        service_name_en=tracked.service_name_en,
        status=tracked.status,
        created_at=tracked.created_at,
        target_days=int(row["target_days"]),
        tracking_url=tracking_link(office.base_url, token),
    )
