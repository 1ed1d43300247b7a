"""The citizen journey's routes: the menu, the phone check before a form, the form itself."""

from __future__ import annotations

from litestar import Router

from portal.citizen import (
    emblem_routes,
    form_routes,
    menu_routes,
    upload_routes,
    verify_routes,
)
from portal.settings import Settings


def build_router(settings: Settings) -> Router:
    return Router(
        path="/",
        route_handlers=[
            menu_routes.home,
            emblem_routes.office_emblem,
            menu_routes.menu,
            menu_routes.service_start,
            verify_routes.router,  # the OTP step for filing (portal.otp.step_router)
            form_routes.service_form,
            form_routes.service_submit,
            form_routes.service_form_draft,
            upload_routes.upload,
            upload_routes.uploaded_file,
            form_routes.submitted,
        ],
    )
