"""Which office a request belongs to: ``OfficeRef`` (what every feature needs to know about it)
and ``OfficeDirectory`` (the offices in memory, by host, slug and id).

Every request, SMS and job belongs to one office (``portal/tables/office.py``). Looking an office
up must cost next to nothing per request, and a change made on one worker (a new host, a new
sender) must reach the others: the directory keeps every office in memory and asks the database
at most once per ``CHECK_EVERY_S`` whether anything changed (one small query: the newest
``updated_at`` and the counts), reloading only then. Whoever changes an office or its hosts bumps
its ``updated_at`` (``touch``).

The default office (id 1) of a deployment run from ``PORTAL_OFFICE_*`` is ``env_managed``: its
name, contact, sender and budget come from the settings at every start, so the single-office
start is unchanged; the settings are also the fallback for what another office leaves empty.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from portal.settings import Settings
from portal.tables.office import DEFAULT_OFFICE_ID, Office, OfficeHost

logger = logging.getLogger("portal")

CHECK_EVERY_S = 1.0
"""How stale another worker's change may be before this worker sees it."""
DEV_PREFIX = "/o/"
"""In development an office is also reached at ``/o/<slug>/...`` (several on 127.0.0.1)."""


@dataclass(frozen=True)
class OfficeRef:
    """One office as the code sees it, with the platform's settings filled in where it left a
    value empty: nothing downstream needs to know about fallbacks."""

    id: int
    slug: str
    name: str
    name_en: str = ""
    active: bool = True
    base_url: str = ""
    """Where citizens reach it, without a trailing slash; tracking links start here."""
    sms_link_base: str = ""
    """What links in its SMS start with (a short host, else ``base_url``)."""
    sms_sender: str = "OSS-LOCAL"
    sms_daily_budget: int = 2000
    retention_days: int = 1825
    phone: str = ""
    line_url: str = ""
    email: str = ""
    address: str = ""
    map_url: str = ""
    hours: str = ""
    privacy_contact_phone: str = ""
    privacy_contact_email: str = ""
    emblem_key: str = ""
    hosts: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT_OFFICE_ID

    @property
    def dial(self) -> str:
        return dial_digits(self.phone)


def dial_digits(phone: str) -> str:
    """A phone as a ``tel:`` link and an SMS carry it: digits (and a leading +) only."""
    plus = "+" if phone.startswith("+") else ""
    return plus + "".join(ch for ch in phone if ch.isascii() and ch.isdigit())


def office_from_row(row: dict[str, Any], settings: Settings, hosts: tuple[str, ...]) -> OfficeRef:
    """An ``office`` row as an ``OfficeRef``; an ``env_managed`` row takes the settings' values."""
    if row.get("env_managed"):
        row = {**row, **_from_settings(settings)}
    default = row["id"] == DEFAULT_OFFICE_ID
    base_url = (
        row["base_url"] or _platform_base_url(settings, row["slug"], default, hosts)
    ).rstrip("/")
    link_base = row["sms_link_base_url"] or (
        settings.sms_link_base if default and not row["base_url"] else base_url
    )
    return OfficeRef(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        name_en=row["name_en"],
        active=bool(row["active"]),
        base_url=base_url,
        sms_link_base=link_base.rstrip("/"),
        sms_sender=row["sms_sender"] or settings.sms_sender,
        sms_daily_budget=row["sms_daily_budget"] or settings.sms_daily_budget,
        retention_days=row["retention_days"] or settings.retention_days,
        phone=row["phone"] or row["privacy_contact_phone"],
        line_url=row["line_url"],
        email=row["email"] or row["privacy_contact_email"],
        address=row["address"],
        map_url=row["map_url"],
        hours=row["hours"],
        privacy_contact_phone=row["privacy_contact_phone"],
        privacy_contact_email=row["privacy_contact_email"],
        emblem_key=row["emblem_key"],
        hosts=hosts,
    )


def _platform_base_url(settings: Settings, slug: str, default: bool, hosts: tuple[str, ...]) -> str:
    """An office that did not set its base URL: the platform's (default office), its first host
    name with the platform's scheme, or (no host yet) the development prefix."""
    base = settings.base_url.rstrip("/")
    if default:
        return base
    if hosts:
        return f"{urlsplit(base).scheme or 'https'}://{hosts[0]}"
    return f"{base}{DEV_PREFIX}{slug}"


def _from_settings(settings: Settings) -> dict[str, Any]:
    """The default office's columns as ``PORTAL_*`` give them (see ``sync_default_office``)."""
    return {
        "name": settings.office_name,
        "base_url": "",
        "sms_link_base_url": "",
        "sms_sender": settings.sms_sender,
        "sms_daily_budget": settings.sms_daily_budget,
        "retention_days": settings.retention_days,
        "phone": settings.office_phone,
        "line_url": settings.office_line_url,
        "email": settings.office_email,
        "address": settings.office_address,
        "map_url": settings.office_map_url,
        "hours": settings.office_hours,
        "privacy_contact_phone": settings.privacy_contact_phone,
        "privacy_contact_email": settings.privacy_contact_email,
    }


async def sync_default_office(settings: Settings) -> None:
    """Write ``PORTAL_OFFICE_*`` into the default office while it is ``env_managed``, so
    ``portal office list`` and the platform page show what citizens see."""
    values = _from_settings(settings)
    await (
        Office.update({**{getattr(Office, k): v for k, v in values.items()}})
        .where((Office.id == DEFAULT_OFFICE_ID) & (Office.env_managed.eq(True)))
        .run()
    )


async def touch(office_id: int) -> None:
    """Tell every worker's directory that this office (or its hosts) changed."""
    await Office.update({Office.updated_at: datetime.now(UTC)}).where(Office.id == office_id).run()


@dataclass
class _Snapshot:
    by_id: dict[int, OfficeRef] = field(default_factory=dict)
    by_slug: dict[str, OfficeRef] = field(default_factory=dict)
    by_host: dict[str, OfficeRef] = field(default_factory=dict)
    version: tuple[Any, ...] = ()


class OfficeDirectory:
    """Every office in memory, refreshed when any worker changed one (see the module doc)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._snapshot = _Snapshot()
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _fresh(self) -> _Snapshot:
        if time.monotonic() - self._checked_at < CHECK_EVERY_S:
            return self._snapshot
        async with self._lock:
            if time.monotonic() - self._checked_at >= CHECK_EVERY_S:
                try:
                    version = await _version()
                    if version != self._snapshot.version:
                        self._snapshot = await self._load(version)
                except Exception:
                    # The database went away for a moment (a restart): what was known a
                    # second ago still holds; without it, the caller answers 503.
                    if not self._snapshot.version:
                        raise
                    logger.warning("office directory kept its last snapshot", exc_info=True)
                self._checked_at = time.monotonic()
        return self._snapshot

    async def _load(self, version: tuple[Any, ...]) -> _Snapshot:
        offices = await Office.select().run()
        hosts: dict[int, list[str]] = {}
        for row in await OfficeHost.select(OfficeHost.host, OfficeHost.office).run():
            hosts.setdefault(row["office"], []).append(row["host"])
        snapshot = _Snapshot(version=version)
        for row in offices:
            office = office_from_row(row, self.settings, tuple(sorted(hosts.get(row["id"], []))))
            snapshot.by_id[office.id] = office
            snapshot.by_slug[office.slug] = office
            for host in office.hosts:
                snapshot.by_host[host] = office
        return snapshot

    def forget(self) -> None:
        """Reload on the next lookup (this worker just changed an office)."""
        self._checked_at = float("-inf")

    async def by_id(self, office_id: int) -> OfficeRef | None:
        return (await self._fresh()).by_id.get(office_id)

    async def by_slug(self, slug: str) -> OfficeRef | None:
        return (await self._fresh()).by_slug.get(slug)

    async def all(self) -> list[OfficeRef]:
        return sorted((await self._fresh()).by_id.values(), key=lambda office: office.id)

    async def for_host(self, host: str) -> OfficeRef | None:
        """The office answering on ``host`` (lower case, no port). While no office has a host
        name, the default office answers on any host (the one-office deployment)."""
        snapshot = await self._fresh()
        found = snapshot.by_host.get(host)
        if found is None and not snapshot.by_host:
            found = snapshot.by_id.get(DEFAULT_OFFICE_ID)
        return found if found is not None and found.active else None


async def _version() -> tuple[Any, ...]:
    rows = await Office.raw(
        "SELECT (SELECT MAX(updated_at) FROM office) AS changed, "
        "(SELECT COUNT(*) FROM office) AS offices, "
        "(SELECT COUNT(*) FROM office_host) AS hosts"
    ).run()
    row = rows[0]
    return (str(row["changed"]), row["offices"], row["hosts"])
