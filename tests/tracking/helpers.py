"""Reads tracking tests need that the portal itself does not."""

from __future__ import annotations

from portal.tables.citizen_request import CitizenRequest


async def phone_has_requests(phone: str) -> bool:
    return bool(await CitizenRequest.exists().where(CitizenRequest.phone == phone))
