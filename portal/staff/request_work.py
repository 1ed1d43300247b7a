"""What staff do to a request, each change written together with its audit row.

Every change has one shape (``_audited``): the request's lock taken once (the lock purge and
status changes take, ``portal.casework.case.request_lock``), the casework service finds the
request and refuses an unknown or anonymised one (``open_case``), the change, and its audit row,
all in one transaction: if the audit row cannot be written, the change is undone. Every
function acts on the request of that number at the given ``office``: another office's request
of the same number is as unknown as a missing one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from portal.casework.assignment import assign
from portal.casework.case import request_lock
from portal.casework.notes import InternalNote, add_note_to, notes_for
from portal.casework.phone_change import change_phone
from portal.casework.status import ALLOWED, apply_status_change
from portal.kernel import audit
from portal.kernel.offices import OfficeRef
from portal.kernel.phone import ThaiMobile
from portal.sms.outbox import SmsConfig
from portal.staff.accounts import Actor
from portal.staff.reply_templates import ReplyText, templates_for
from portal.tables.citizen_request import RequestStatus
from portal.tracking.service import TrackedRequest, request_by_number

__all__ = [
    "Actor",
    "RequestView",
    "staff_add_note",
    "staff_assign",
    "staff_change_status",
    "staff_fix_phone",
    "view_request",
]

Work = Callable[[], Awaitable[tuple[int, dict[str, Any] | None]]]
"""One change inside the lock: answers the request's id and the audit row's details."""


@dataclass(frozen=True)
class RequestView:
    request_id: int
    tracked: TrackedRequest
    allowed_next: list[str]
    notes: list[InternalNote]
    assigned_to: int | None
    templates: list[ReplyText]


async def view_request(number: str, actor: Actor, *, office: OfficeRef) -> RequestView | None:
    """Everything the citizen entered; the view itself is audited (personal data was read)."""
    found = await request_by_number(number, office=office)
    if found is None:
        return None
    request_id, tracked, assigned_to, service_id = found
    await audit.record(
        office_id=office.id,
        actor=actor.username,
        action="view_request",
        client_ip=actor.client_ip,
        request_id=request_id,
    )
    allowed = ALLOWED[RequestStatus(tracked.status)]
    return RequestView(
        request_id=request_id,
        tracked=tracked,
        allowed_next=[status.value for status in RequestStatus if status in allowed],
        notes=await notes_for(request_id, office=office),
        assigned_to=assigned_to,
        templates=await templates_for(service_id, office=office),
    )


async def _audited(number: str, action: str, actor: Actor, work: Work, office: OfficeRef) -> None:
    """The request's lock, the change and its audit row, in one transaction."""
    async with request_lock(number):
        request_id, details = await work()
        await audit.record(
            office_id=office.id,
            actor=actor.username,
            action=action,
            client_ip=actor.client_ip,
            request_id=request_id,
            details=details,
        )


async def staff_change_status(
    number: str,
    status: RequestStatus,
    note: str,
    actor: Actor,
    *,
    office: OfficeRef,
    sms: SmsConfig,
) -> None:
    async def work() -> tuple[int, dict[str, Any]]:
        changed = await apply_status_change(
            number=number,
            status=status,
            actor=actor.username,
            public_note=note,
            office=office,
            sms=sms,
        )
        # The note's words may name the citizen; purge blanks them on the timeline but never
        # touches the audit log, so only their length is kept there.
        details = {"from": changed.old.value, "to": changed.new.value}
        return changed.request_id, {**details, "note_length": len(note.strip())}

    await _audited(number, "change_status", actor, work, office)


async def staff_add_note(number: str, text: str, actor: Actor, *, office: OfficeRef) -> None:
    async def work() -> tuple[int, None]:
        request_id = await add_note_to(number, author_id=actor.staff_id, text=text, office=office)
        return request_id, None

    await _audited(number, "add_note", actor, work, office)


async def staff_assign(
    number: str, staff_id: int | None, actor: Actor, *, office: OfficeRef
) -> None:
    async def work() -> tuple[int, dict[str, Any]]:
        return await assign(number, staff_id, office=office), {"staff_id": staff_id}

    await _audited(number, "assign", actor, work, office)


async def staff_fix_phone(
    number: str,
    new_phone: str,
    reason: str,
    actor: Actor,
    *,
    office: OfficeRef,
    sms: SmsConfig,
) -> None:
    async def work() -> tuple[int, dict[str, Any]]:
        changed = await change_phone(
            number=number, new_phone=new_phone, reason=reason, office=office, sms=sms
        )
        # Masked: the audit log outlives purge, so it must not keep whole numbers.
        return changed.request_id, {
            "old": ThaiMobile(changed.old_phone).masked,
            "new": ThaiMobile(changed.new_phone).masked,
            "reason": reason.strip(),
        }

    await _audited(number, "change_phone", actor, work, office)
