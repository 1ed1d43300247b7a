"""The platform pages (``/platform/...``), for platform admins on the platform's own host."""

from __future__ import annotations

from litestar import Router

from portal.platform import emblem_routes, routes
from portal.settings import Settings


def build_router(settings: Settings) -> Router:
    return Router(
        path="/",
        route_handlers=[
            routes.offices_page,
            routes.create_office_action,
            routes.office_page,
            routes.hosts_action,
            routes.details_action,
            routes.active_action,
            routes.invite_action,
            routes.adopt_action,
            emblem_routes.emblem_action,
            emblem_routes.emblem_image,
        ],
    )
