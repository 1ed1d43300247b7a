"""Route guards for the back office: a signed-in staff session, and the admin role.

A citizen's session has no staff part, so it can never pass ``staff_guard``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from portal.staff.session_state import StaffSession, current
from portal.tables.staff_user import StaffRole
from portal.timeutil import utcnow


def staff_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    staff = current(connection.session, utcnow()) if "session" in connection.scope else None
    if staff is None:
        raise NotAuthorizedException()
    connection.state.staff = staff


def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    staff: StaffSession | None = getattr(connection.state, "staff", None)
    if staff is None or staff.role != StaffRole.admin:
        raise PermissionDeniedException()


def signed_in_staff(request: Request[Any, Any, Any]) -> StaffSession:
    """Dependency for handlers behind ``staff_guard``."""
    staff: StaffSession = request.state.staff
    return staff
