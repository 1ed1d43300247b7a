"""The receipt of a filed request: as a page and as a PDF, both behind the tracking link."""

from __future__ import annotations

from litestar import Router

from portal.receipt import routes
from portal.settings import Settings


def build_router(settings: Settings) -> Router:
    return Router(path="/", route_handlers=[routes.receipt_page, routes.receipt_pdf])
