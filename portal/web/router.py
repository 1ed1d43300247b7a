"""The web layer's own route: the language switch every citizen page links to."""

from __future__ import annotations

from litestar import Router

from portal.settings import Settings
from portal.web import language_routes


def build_router(settings: Settings) -> Router:
    return Router(path="/", route_handlers=[language_routes.set_language])
