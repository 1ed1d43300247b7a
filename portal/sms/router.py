"""The SMS routes: the gateways' delivery reports, and (in development only) the outbox page."""

from __future__ import annotations

from typing import Any

from litestar import Router

from portal.settings import Settings
from portal.sms import report_routes, routes


def build_router(settings: Settings) -> Router:
    handlers: list[Any] = list(report_routes.handlers)
    if settings.is_development:
        handlers.append(routes.dev_sms)  # every OTP in clear text: never in production
    return Router(path="/", route_handlers=handlers)
