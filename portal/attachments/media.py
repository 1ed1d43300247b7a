"""A request's photos, PDFs and place, as its pages show them: for staff (any request) and
for the phone that filed it (tracking way 2), always within one office. The files themselves
are served by ``downloads``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.attachments.records import COLUMNS, AttachmentInfo, row_info
from portal.catalogue.location import Place
from portal.kernel.offices import OfficeRef
from portal.tables.attachment import Attachment, AttachmentStage
from portal.tables.citizen_request import CitizenRequest


@dataclass(frozen=True)
class RequestMedia:
    attachments: list[AttachmentInfo]
    place: Place | None

    @property
    def before(self) -> list[AttachmentInfo]:
        return [a for a in self.attachments if a.stage == AttachmentStage.before]

    @property
    def after(self) -> list[AttachmentInfo]:
        return [a for a in self.attachments if a.stage == AttachmentStage.after]


async def media_for_request(request_id: int, office_id: int) -> list[AttachmentInfo]:
    """Before photos first, then staff's after photos, each in upload order."""
    rows = (
        await Attachment.select(*COLUMNS)
        .where(Attachment.request == request_id, Attachment.office == office_id)
        .order_by(Attachment.id)
    )
    infos = [row_info(row) for row in rows]
    return sorted(infos, key=lambda info: (info.stage != AttachmentStage.before, info.id))


async def place_for_request(request_id: int, office_id: int) -> Place | None:
    row = (
        await CitizenRequest.select(
            CitizenRequest.location_lat, CitizenRequest.location_lng, CitizenRequest.location_text
        )
        .where(CitizenRequest.id == request_id, CitizenRequest.office == office_id)
        .first()
    )
    return _place(row) if row else None


def _place(row: dict[str, Any]) -> Place | None:
    lat, lng, text = row["location_lat"], row["location_lng"], row["location_text"] or ""
    if lat is None and lng is None and not text:
        return None
    return Place(lat, lng, text)


async def media_for_staff(request_id: int, *, office: OfficeRef) -> RequestMedia:
    """A request of ``office`` (another office's id shows nothing: no files, no place)."""
    return RequestMedia(
        await media_for_request(request_id, office.id),
        await place_for_request(request_id, office.id),
    )


async def media_for_phone(number: str, phone: str, *, office: OfficeRef) -> RequestMedia | None:
    """Way 2: only when the request was filed with ``phone`` at ``office``."""
    row = (
        await CitizenRequest.select(
            CitizenRequest.id,
            CitizenRequest.location_lat,
            CitizenRequest.location_lng,
            CitizenRequest.location_text,
        )
        .where(
            CitizenRequest.number == number,
            CitizenRequest.phone == phone,
            CitizenRequest.office == office.id,
        )
        .first()
    )
    if row is None:
        return None
    return RequestMedia(await media_for_request(int(row["id"]), office.id), _place(row))
