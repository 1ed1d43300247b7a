"""Internal notes: for the office only, never shown to the citizen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.casework.activity import record_work
from portal.casework.case import CaseError, open_case
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.tables.staff_note import StaffNote

MAX_NOTE_LENGTH = 4000


class NoteError(CaseError):
    """``code``: ``note_required``, ``note_too_long``, ``unknown_request`` or ``anonymised``."""


@dataclass(frozen=True)
class InternalNote:
    author: str
    text: str
    created_at: datetime


async def add_note(*, request_id: int, author_id: int, text: str, office: OfficeRef) -> None:
    """Call inside the caller's transaction, for a request of ``office`` found by
    ``open_case``: a note is work, so it restarts the retention clock
    (``portal.casework.activity``); on an anonymised request it is refused."""
    text = text.strip()
    if not text:
        raise NoteError("note_required")
    if len(text) > MAX_NOTE_LENGTH:
        raise NoteError("note_too_long")
    now = utcnow()
    if not await record_work(request_id, now):
        raise NoteError("anonymised")
    await StaffNote(
        office=office.id, request=request_id, author=author_id, text=text, created_at=now
    ).save()


async def add_note_to(number: str, *, author_id: int, text: str, office: OfficeRef) -> int:
    """``add_note`` on the request ``number`` of ``office``, inside the caller's
    ``request_lock(number)`` (the lock purge takes too); answers the request's id."""
    case = await open_case(number, NoteError, office=office)
    await add_note(request_id=case.id, author_id=author_id, text=text, office=office)
    return case.id


async def notes_for(request_id: int, *, office: OfficeRef) -> list[InternalNote]:
    rows = (
        await StaffNote.select(
            StaffNote.text,
            StaffNote.created_at,
            StaffNote.author.display_name.as_alias("display_name"),
            StaffNote.author.username.as_alias("username"),
        )
        .where(StaffNote.office == office.id, StaffNote.request == request_id)
        .order_by(StaffNote.id, ascending=False)
    )
    return [
        InternalNote(
            author=row["display_name"] or row["username"],
            text=row["text"],
            created_at=row["created_at"],
        )
        for row in rows
    ]
