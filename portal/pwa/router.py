"""The installable-app routes: manifest, service worker, offline page and hashed assets."""

from __future__ import annotations

from litestar import Router

from portal.pwa import routes
from portal.settings import Settings


def build_router(settings: Settings) -> Router:
    return Router(
        path="/",
        route_handlers=[routes.manifest, routes.service_worker, routes.offline, routes.asset],
    )
