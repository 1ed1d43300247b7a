"""What staff do to a request, each change written together with its audit row."""

from __future__ import annotations

from dataclasses import dataclass

from portal.casework.activity import record_work
from portal.casework.notes import InternalNote, NoteError, add_note, notes_for
from portal.casework.phone_change import change_phone
from portal.casework.status import ALLOWED, change_status
from portal.db import write_transaction
from portal.kernel import audit
from portal.kernel.phone import ThaiMobile
from portal.sms.outbox import SmsConfig
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from portal.tables.reply_template import ReplyTemplate
from portal.tables.staff_user import StaffUser
from portal.tracking.service import TrackedRequest, request_by_number


@dataclass(frozen=True)
class Actor:
    staff_id: int
    username: str
    client_ip: str


@dataclass(frozen=True)
class Template:
    status: str
    title: str
    text: str


@dataclass(frozen=True)
class RequestView:
    request_id: int
    tracked: TrackedRequest
    allowed_next: list[str]
    notes: list[InternalNote]
    assigned_to: int | None
    templates: list[Template]


async def _request_id(number: str) -> int | None:
    row = (
        await CitizenRequest.select(CitizenRequest.id)
        .where(CitizenRequest.number == number)
        .first()
    )
    return int(row["id"]) if row else None


def _next_statuses(status: str) -> list[str]:
    allowed = ALLOWED[RequestStatus(status)]
    return [candidate.value for candidate in RequestStatus if candidate in allowed]


async def view_request(number: str, actor: Actor) -> RequestView | None:
    """Everything the citizen entered; the view itself is audited (personal data was read)."""
    found = await request_by_number(number)
    if found is None:
        return None
    request_id, tracked, assigned_to, service_id = found
    await audit.record(
        actor=actor.username,
        action="view_request",
        client_ip=actor.client_ip,
        request_id=request_id,
    )
    templates = (
        await ReplyTemplate.select(ReplyTemplate.status, ReplyTemplate.title, ReplyTemplate.text)
        .where(
            ReplyTemplate.active.eq(True),
            ReplyTemplate.service.is_null() | (ReplyTemplate.service == service_id),
        )
        .order_by(ReplyTemplate.id)
    )
    return RequestView(
        request_id=request_id,
        tracked=tracked,
        allowed_next=[
            s.value for s in RequestStatus if s in ALLOWED[RequestStatus(tracked.status)]
        ],
        notes=await notes_for(request_id),
        assigned_to=assigned_to,
        templates=[Template(**row) for row in templates],
    )


async def staff_change_status(
    number: str, status: RequestStatus, note: str, actor: Actor, *, base_url: str, sms: SmsConfig
) -> None:
    async with write_transaction(serialize=f"request-status:{number}"):
        changed = await change_status(
            number=number,
            status=status,
            actor=actor.username,
            public_note=note,
            base_url=base_url,
            sms=sms,
        )
        await audit.record(
            actor=actor.username,
            action="change_status",
            client_ip=actor.client_ip,
            request_id=await _request_id(number),
            # The note's words may name the citizen; purge blanks them on the timeline but
            # never touches the audit log, so only their length is kept here.
            details={
                "from": changed.old.value,
                "to": changed.new.value,
                "note_length": len(note.strip()),
            },
        )


async def staff_add_note(number: str, text: str, actor: Actor) -> None:
    # The same lock as status changes and purge, so a note cannot land on a request that
    # purge is anonymising at this moment (and then stay forever).
    async with write_transaction(serialize=f"request-status:{number}"):
        row = (
            await CitizenRequest.select(CitizenRequest.id, CitizenRequest.anonymised_at)
            .where(CitizenRequest.number == number)
            .first()
        )
        if row is None:
            raise LookupError(number)
        if row["anonymised_at"] is not None:
            raise NoteError("anonymised")
        request_id = int(row["id"])
        await add_note(request_id=request_id, author_id=actor.staff_id, text=text)
        await audit.record(
            actor=actor.username,
            action="add_note",
            client_ip=actor.client_ip,
            request_id=request_id,
        )


async def staff_assign(number: str, staff_id: int | None, actor: Actor) -> None:
    async with write_transaction(serialize=f"request-status:{number}"):
        request_id = await _request_id(number)
        if request_id is None:
            raise LookupError(number)
        if staff_id is not None and not await StaffUser.exists().where(
            StaffUser.id == staff_id, StaffUser.active.eq(True)
        ):
            raise LookupError(staff_id)
        await CitizenRequest.update({CitizenRequest.assigned_to: staff_id}).where(
            CitizenRequest.id == request_id
        )
        # Assigning is work on the case: the retention clock starts again (an anonymised
        # request may still be assigned, it names nobody; its clock no longer matters).
        await record_work(request_id)
        await audit.record(
            actor=actor.username,
            action="assign",
            client_ip=actor.client_ip,
            request_id=request_id,
            details={"staff_id": staff_id},
        )


async def staff_fix_phone(
    number: str, new_phone: str, reason: str, actor: Actor, *, base_url: str, sms: SmsConfig
) -> None:
    async with write_transaction(serialize=f"request-status:{number}"):
        changed = await change_phone(
            number=number, new_phone=new_phone, reason=reason, base_url=base_url, sms=sms
        )
        await audit.record(
            actor=actor.username,
            action="change_phone",
            client_ip=actor.client_ip,
            request_id=changed.request_id,
            # Masked: the audit log outlives purge, so it must not keep whole numbers.
            details={
                "old": ThaiMobile(changed.old_phone).masked,
                "new": ThaiMobile(changed.new_phone).masked,
                "reason": reason.strip(),
            },
        )
