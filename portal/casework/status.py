"""Changing a request's status: the row, a timeline event and the citizen's SMS, together.

Shared by the staff back office and the ``portal requests status`` command.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.db import write_transaction
from portal.kernel.clock import utcnow
from portal.kernel.tracking_links import tracking_link
from portal.sms.outbox import SmsConfig, enqueue
from portal.sms.texts import render_sms
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsPurpose

CLOSED = frozenset({RequestStatus.completed, RequestStatus.rejected, RequestStatus.cancelled})
ALLOWED: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.received: frozenset(RequestStatus) - {RequestStatus.received},
    RequestStatus.in_progress: CLOSED,
    # A closed request can only be reopened, so a mistaken close is not a dead end.
    RequestStatus.completed: frozenset({RequestStatus.in_progress}),
    RequestStatus.rejected: frozenset({RequestStatus.in_progress}),
    RequestStatus.cancelled: frozenset({RequestStatus.in_progress}),
}
MAX_NOTE_LENGTH = 1000


class StatusChangeError(ValueError):
    """``code`` names why: ``unknown_request``, ``anonymised``, ``not_allowed`` or
    ``note_too_long``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class StatusChanged:
    number: str
    old: RequestStatus
    new: RequestStatus


async def change_status(
    *,
    number: str,
    status: RequestStatus,
    actor: str,
    public_note: str,
    base_url: str,
    sms: SmsConfig,
) -> StatusChanged:
    note = public_note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise StatusChangeError("note_too_long")
    # Serialised per request, so two simultaneous changes (two officers, a double click)
    # check the transition one after the other instead of both from the same old status.
    async with write_transaction(serialize=f"request-status:{number}"):
        row = (
            await CitizenRequest.select(
                CitizenRequest.id,
                CitizenRequest.status,
                CitizenRequest.phone,
                CitizenRequest.tracking_token,
                CitizenRequest.anonymised_at,
            )
            .where(CitizenRequest.number == number)
            .first()
        )
        if row is None:
            raise StatusChangeError("unknown_request")
        # Purge never looks at a request again: reopening one would collect new personal
        # data (notes, SMS) that then stays forever.
        if row["anonymised_at"] is not None:
            raise StatusChangeError("anonymised")
        old = RequestStatus(row["status"])
        if status not in ALLOWED[old]:
            raise StatusChangeError("not_allowed")
        now = utcnow()
        await CitizenRequest.update(
            {CitizenRequest.status: status, CitizenRequest.updated_at: now}
        ).where(CitizenRequest.id == row["id"])
        await RequestEvent(
            request=row["id"], status=status, actor=actor, public_note=note, created_at=now
        ).save()
        # The note may carry personal details; the SMS only says that something changed.
        text = render_sms(
            "status.txt",
            number=number,
            status=status.value,
            tracking_url=tracking_link(sms.link_base or base_url, row["tracking_token"]),
        )
        await enqueue(
            sms,
            to_phone=row["phone"],
            text=text,
            purpose=SmsPurpose.status,
            now=now,
            request_id=int(row["id"]),
        )
    return StatusChanged(number=number, old=old, new=status)
