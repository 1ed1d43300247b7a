"""A second (third, ...) office for tests: the row, its host names and the standard forms.

``tests/conftest.py``'s ``database`` fixture removes every office but the default one (and what
belongs to them) before each test, so a test creates the offices it needs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from portal.catalogue.service import seed_default_services
from portal.kernel.offices import OfficeDirectory, OfficeRef
from portal.staff.reply_templates import seed_default_reply_templates
from portal.tables.office import DEFAULT_OFFICE_ID, Office, OfficeHost


async def create_office(
    slug: str,
    *,
    name: str = "",
    hosts: tuple[str, ...] = (),
    services: bool = True,
    **columns: object,
) -> int:
    """Insert an office (with ``columns`` such as ``sms_sender``); return its id."""
    office = Office(
        slug=slug,
        name=name or f"เทศบาลตำบล{slug}",
        updated_at=datetime.now(UTC),
        **columns,
    )
    await office.save()
    office_id = int(office.id)
    for host in hosts:
        await OfficeHost(host=host, office=office_id).save()
    if services:
        await seed_default_services(office_id=office_id)
        await seed_default_reply_templates(office_id=office_id)
    return office_id


async def add_host(office_id: int, host: str) -> None:
    await OfficeHost(host=host, office=office_id).save()
    await Office.update({Office.updated_at: datetime.now(UTC)}).where(Office.id == office_id)


async def office_ref(office_id: int = DEFAULT_OFFICE_ID) -> OfficeRef:
    """The office as a test app sees it (``make_settings``' fallbacks filled in), for calling
    services without an app: ``await office_ref()`` is the default office."""
    from tests.conftest import make_settings

    office = await OfficeDirectory(make_settings(Path("unused"), "sqlite:///unused.db")).by_id(
        office_id
    )
    assert office is not None, office_id
    return office
