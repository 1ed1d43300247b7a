"""The tracking routes: the link from the SMS, and looking requests up by phone."""

from __future__ import annotations

from litestar import Router

from portal.settings import Settings
from portal.tracking import attachment_routes, lookup_routes, routes


def build_router(settings: Settings) -> Router:
    return Router(
        path="/",
        route_handlers=[
            routes.track_link,
            lookup_routes.router,  # the OTP step for tracking (portal.otp.step_router)
            lookup_routes.track_list,
            lookup_routes.track_detail,
            attachment_routes.tracked_file,
            lookup_routes.track_sign_out,
        ],
    )
