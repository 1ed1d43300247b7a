"""Who reaches the platform pages: a signed-in ``platform_admin`` of the default office, on the
default office's host (the platform's own). Everyone else, a signed-out visitor included, gets
the same 404 as a page that does not exist: the pages are not even admitted to exist.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from portal.staff.guards import staff_guard
from portal.staff.session_state import StaffSession
from portal.tables.staff_user import StaffRole
from portal.web.offices import office_of


async def platform_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if not office_of(connection).is_default:
        raise NotFoundException()
    try:
        # The staff guard checks the account in the database (active, same session version,
        # this office's) and reads its role afresh.
        await staff_guard(connection, handler)
    except (NotAuthorizedException, PermissionDeniedException, NotFoundException) as error:
        raise NotFoundException() from error
    staff: StaffSession | None = getattr(connection.state, "staff", None)
    if staff is None or staff.role != StaffRole.platform_admin:
        raise NotFoundException()


PLATFORM = [platform_guard]
"""The guards of every platform page."""
