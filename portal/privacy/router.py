"""The privacy notice for everyone (the staff's citizen-ID reveal and data export are staff
routes: ``portal.staff.privacy_routes``)."""

from __future__ import annotations

from litestar import Router

from portal.privacy import routes
from portal.settings import Settings


def build_router(settings: Settings) -> Router:
    return Router(
        path="/",
        route_handlers=[
            routes.privacy_notice,
        ],
    )
