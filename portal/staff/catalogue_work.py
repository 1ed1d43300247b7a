"""The admins' changes to the service catalogue, each written with its audit row."""

from __future__ import annotations

from portal.catalogue.admin import ServiceDraft, save_service
from portal.db import write_transaction
from portal.kernel import audit
from portal.kernel.offices import OfficeRef
from portal.staff.accounts import Actor


async def save_service_as(
    draft: ServiceDraft, service_id: int | None, actor: Actor, *, office: OfficeRef
) -> int:
    """Create (``service_id`` None) or update a service of ``office``, audited in the same
    transaction; raises ``CatalogueError`` (nothing saved) for a draft the catalogue refuses."""
    async with write_transaction():
        saved = await save_service(draft, service_id, office=office)
        await audit.record(
            office_id=office.id,
            actor=actor.username,
            action="service_saved",
            client_ip=actor.client_ip,
            details={"service_id": saved, "slug": draft.slug, "active": draft.active},
        )
    return saved
