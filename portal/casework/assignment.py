"""Who in the office handles a request."""

from __future__ import annotations

from portal.casework.activity import record_work
from portal.casework.case import CaseError, open_case
from portal.kernel.offices import OfficeRef
from portal.tables.citizen_request import CitizenRequest
from portal.tables.staff_user import StaffUser


class AssignError(CaseError):
    """``code``: ``unknown_request`` or ``unknown_staff`` (no such active colleague)."""


async def assign(number: str, staff_id: int | None, *, office: OfficeRef) -> int:
    """Give the request to ``staff_id`` (None: to nobody), inside the caller's
    ``request_lock(number)``; answers the request's id.

    Only a colleague of the request's own office: another office's officer is as unknown as
    an account that does not exist. Assigning is work on the case, so the retention clock
    starts again. An anonymised request may still be assigned: it names nobody, and its clock
    no longer matters."""
    case = await open_case(number, AssignError, office=office, anonymised_ok=True)
    if staff_id is not None and not await StaffUser.exists().where(
        StaffUser.office == office.id, StaffUser.id == staff_id, StaffUser.active.eq(True)
    ):
        raise AssignError("unknown_staff")
    await CitizenRequest.update({CitizenRequest.assigned_to: staff_id}).where(
        CitizenRequest.office == office.id, CitizenRequest.id == case.id
    )
    await record_work(case.id)
    return case.id
