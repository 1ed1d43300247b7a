"""The request a piece of casework acts on: found by its number, under its lock, refused once
purge has anonymised it.

Every change to a request (a status, a note, a new phone, an assignee, an "after" photo) and
purge itself take the same per-request lock (``request_lock``), so a change cannot land on a
request that purge is anonymising at that moment and then stay there for good. Inside the
lock, ``open_case`` is the one place that turns a number into the request's row and refuses an
unknown or anonymised one: purge never looks at a request again, so new personal data written
to an anonymised one (a note, an SMS, a phone) would stay forever.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from portal.db import write_transaction
from portal.kernel.offices import OfficeRef
from portal.tables.citizen_request import CitizenRequest, RequestStatus


class CaseError(ValueError):
    """Why casework was refused; ``code`` names it for the page (``unknown_request``,
    ``anonymised`` or the action's own reasons). Each action has its own subclass."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def request_lock(number: str) -> AbstractAsyncContextManager[Any]:
    """The write transaction serialised on one request (an advisory lock on PostgreSQL; SQLite
    serialises every write transaction anyway). Take it once per action.

    Keyed on the number alone: two offices' requests with the same number share a lock, which
    costs a rare wait, while every caller (purge included) is sure to take the same one."""
    return write_transaction(serialize=f"request-status:{number}")


@dataclass(frozen=True)
class Case:
    id: int
    number: str
    status: RequestStatus
    phone: str
    tracking_token: str
    tracking_token_hash: str
    anonymised: bool


_COLUMNS = (
    CitizenRequest.id,
    CitizenRequest.status,
    CitizenRequest.phone,
    CitizenRequest.tracking_token,
    CitizenRequest.tracking_token_hash,
    CitizenRequest.anonymised_at,
)


async def open_case(
    number: str,
    refuse: type[CaseError] = CaseError,
    *,
    office: OfficeRef,
    anonymised_ok: bool = False,
) -> Case:
    """The request ``number`` of ``office``, read inside the caller's transaction
    (``request_lock``).

    Raises ``refuse("unknown_request")`` when the office has none (another office's request of
    that number is exactly as unknown), and ``refuse("anonymised")`` when purge has anonymised
    it, unless ``anonymised_ok`` (work that adds no personal data)."""
    row = (
        await CitizenRequest.select(*_COLUMNS)
        .where(CitizenRequest.office == office.id, CitizenRequest.number == number)
        .first()
    )
    if row is None:
        raise refuse("unknown_request")
    if row["anonymised_at"] is not None and not anonymised_ok:
        raise refuse("anonymised")
    return Case(
        id=int(row["id"]),
        number=number,
        status=RequestStatus(row["status"]),
        phone=row["phone"],
        tracking_token=row["tracking_token"],
        tracking_token_hash=row["tracking_token_hash"],
        anonymised=row["anonymised_at"] is not None,
    )
