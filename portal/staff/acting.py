"""Who is acting: the signed-in staff member as the audit log names them."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException

from portal.staff.accounts import Actor, username_of
from portal.staff.session_state import StaffSession
from portal.web.offices import office_of
from portal.web.rendering import client_ip


async def acting_staff(request: Request[Any, Any, Any], staff: StaffSession) -> Actor:
    """The one lookup of the acting staff member, for handlers behind ``staff_guard`` (which
    has just checked the account at this office; a 404 if it vanished since)."""
    username = await username_of(staff.staff_id, office=office_of(request))
    if username is None:
        raise NotFoundException()
    return Actor(staff_id=staff.staff_id, username=username, client_ip=client_ip(request))
