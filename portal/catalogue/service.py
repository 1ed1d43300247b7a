"""Reading the catalogue, and seeding it on first start."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal.catalogue.fields import FormField
from portal.db import write_transaction
from portal.kernel.offices import OfficeRef
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.service import Service

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
DEFAULT_SERVICES = Path(__file__).resolve().parent / "default_services.json"


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    slug: str
    name: str
    summary: str
    icon: str
    target_days: int
    fields: list[FormField]
    name_en: str = ""
    summary_en: str = ""


def load_fields(raw: Any) -> list[FormField]:
    """Form definitions as stored (JSON text on SQLite, parsed JSON on PostgreSQL)."""
    data = json.loads(raw) if isinstance(raw, str) else raw
    return [FormField.from_data(item) for item in data or []]


def _info(row: dict[str, Any]) -> ServiceInfo:
    return ServiceInfo(
        id=int(row["id"]),
        slug=row["slug"],
        name=row["name"],
        summary=row["summary"],
        icon=row["icon"],
        target_days=int(row["target_days"]),
        fields=load_fields(row["form_fields"]),
        name_en=row.get("name_en") or "",
        summary_en=row.get("summary_en") or "",
    )


async def list_active_services(*, office: OfficeRef) -> list[ServiceInfo]:
    """The office's own menu: another office's services never show."""
    rows = (
        await Service.select()
        .where(Service.office == office.id, Service.active.eq(True))
        .order_by(Service.sort_order)
        .order_by(Service.id)
    )
    return [_info(row) for row in rows]


async def get_active_service(slug: str, *, office: OfficeRef) -> ServiceInfo | None:
    """The office's active service ``slug``; another office's slug is None, like a missing one
    (slugs are unique per office only: two offices may both have ``general-request``)."""
    # Checked before the query: PostgreSQL refuses a NUL byte in a parameter with an error.
    if not SLUG_PATTERN.fullmatch(slug):
        return None
    row = (
        await Service.select()
        .where(Service.office == office.id, Service.slug == slug, Service.active.eq(True))
        .first()
    )
    return _info(row) if row else None


async def seed_default_services(
    path: Path = DEFAULT_SERVICES, *, office_id: int = DEFAULT_OFFICE_ID
) -> int:
    """Insert the default catalogue when the office has no service; return how many were added
    (a new office starts with the standard forms, which it then edits as its own)."""
    if await Service.count().where(Service.office == office_id) > 0:
        return 0
    definitions = json.loads(path.read_text(encoding="utf-8"))
    # Refuse a broken file before saving anything, and save all or nothing: a half-seeded
    # catalogue would never be completed, since seeding only happens on an empty table.
    for item in definitions:
        load_fields(item["form_fields"])
    async with write_transaction():
        for order, item in enumerate(definitions):
            await service_from_definition(office_id, item, order).save()
    return len(definitions)


def service_from_definition(office_id: int, item: dict[str, Any], order: int) -> Service:
    """An office's own service made from a standard definition (``default_services.json``, the
    library): from then on the office edits it as its own."""
    return Service(
        office=office_id,
        slug=item["slug"],
        name=item["name"],
        summary=item.get("summary", ""),
        name_en=item.get("name_en", ""),
        summary_en=item.get("summary_en", ""),
        icon=item.get("icon", "document"),
        target_days=item.get("target_days", 15),
        sort_order=order,
        active=True,
        form_fields=json.dumps(item["form_fields"], ensure_ascii=False),
    )
