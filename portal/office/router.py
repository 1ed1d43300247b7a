"""The office's contact page, which every "ติดต่อเจ้าหน้าที่" links to."""

from __future__ import annotations

from litestar import Router

from portal.office import contact
from portal.settings import Settings


def build_router(settings: Settings) -> Router:
    return Router(path="/", route_handlers=[contact.contact_page])
