"""Changing a request's status: the row, a timeline event and the citizen's SMS, together.

Shared by the staff back office and the ``portal requests status`` command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.casework.case import CaseError, open_case, request_lock
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
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


class StatusChangeError(CaseError):
    """``code`` names why: ``unknown_request``, ``anonymised``, ``not_allowed`` or
    ``note_too_long``."""


@dataclass(frozen=True)
class StatusChanged:
    number: str
    old: RequestStatus
    new: RequestStatus
    request_id: int = field(default=0, compare=False)


async def change_status(
    *,
    number: str,
    status: RequestStatus,
    actor: str,
    public_note: str,
    office: OfficeRef,
    sms: SmsConfig,
) -> StatusChanged:
    """Change the status of ``office``'s request ``number`` under the request's own lock (for
    ``portal requests status``).

    Serialised per request, so two simultaneous changes (two officers, a double click) check
    the transition one after the other instead of both from the same old status."""
    async with request_lock(number):
        return await apply_status_change(
            number=number,
            status=status,
            actor=actor,
            public_note=public_note,
            office=office,
            sms=sms,
        )


async def apply_status_change(
    *,
    number: str,
    status: RequestStatus,
    actor: str,
    public_note: str,
    office: OfficeRef,
    sms: SmsConfig,
) -> StatusChanged:
    """The change itself, inside the caller's ``request_lock(number)``: the citizen's SMS
    comes from ``office``'s sender and links to its own tracking pages."""
    note = public_note.strip()
    # The note is checked first: a refusal says nothing about which numbers exist.
    if len(note) > MAX_NOTE_LENGTH:
        raise StatusChangeError("note_too_long")
    case = await open_case(number, StatusChangeError, office=office)
    if status not in ALLOWED[case.status]:
        raise StatusChangeError("not_allowed")
    now = utcnow()
    await CitizenRequest.update(
        {CitizenRequest.status: status, CitizenRequest.updated_at: now}
    ).where(CitizenRequest.office == office.id, CitizenRequest.id == case.id)
    await RequestEvent(
        office=office.id,
        request=case.id,
        status=status,
        actor=actor,
        public_note=note,
        created_at=now,
    ).save()
    # The note may carry personal details; the SMS only says that something changed.
    config = sms.for_office(office)
    text = render_sms(
        "status.txt",
        number=number,
        status=status.value,
        tracking_url=tracking_link(config.link_base or office.sms_link_base, case.tracking_token),
    )
    await enqueue(
        config,
        office=office,
        to_phone=case.phone,
        text=text,
        purpose=SmsPurpose.status,
        now=now,
        request_id=case.id,
    )
    return StatusChanged(number=number, old=case.status, new=status, request_id=case.id)
