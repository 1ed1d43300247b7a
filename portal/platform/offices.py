"""The platform's own work on offices: create one, set its hosts and details, switch it off.

Every change is audited in the office it changes and ends with ``touch`` (every worker's office
directory reloads within a second). The rules that keep the deployment answering:

- a slug and every host belong to one office only;
- the first host name given to another office is refused while the default office has none:
  once any office has a host, a request on an unknown host gets 404, so the default office
  (answering "on any host" until then) would silently stop answering. Give it its host first;
  for the same reason the default office keeps its last host while other offices have some;
- the default office can be neither disabled nor edited here while ``PORTAL_OFFICE_*``
  manage it (``env_managed``): the next start would overwrite the change;
- a new office adopts the library's standard forms and the default reply templates in the
  same transaction, so it takes requests the moment it exists.

The platform pages run on the default office, whose requests PostgreSQL's row security limits
to the default office's rows (``portal.db_engines.office_scope``): each function here names
the office it works on (``office_scope(office_id)``), or none where it spans offices (creating
one, the list with every office's request count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from portal.catalogue.library import adopt
from portal.db import is_unique_violation, write_transaction
from portal.db_engines import office_scope
from portal.kernel import audit
from portal.kernel.offices import touch
from portal.platform.validation import (
    PlatformError,
    check_base_url,
    check_details,
    check_hosts,
    check_name,
    check_sender,
    check_slug,
)
from portal.staff.reply_templates import seed_default_reply_templates
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID, Office, OfficeHost
from portal.tables.service import Service

OFFICES_LOCK = "platform-offices"
"""Serialises changes to offices and hosts (the first-host rule reads before it writes)."""


@dataclass(frozen=True)
class OfficeSummary:
    id: int
    slug: str
    name: str
    name_en: str
    hosts: tuple[str, ...]
    active: bool
    requests: int

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT_OFFICE_ID


@dataclass(frozen=True)
class Who:
    """Who makes a platform change, as the audit log names them."""

    actor: str
    client_ip: str = ""


async def _hosts_of(office_id: int) -> list[str]:
    rows = await OfficeHost.select(OfficeHost.host).where(OfficeHost.office == office_id)
    return sorted(str(row["host"]) for row in rows)


async def _check_host_rules(office_id: int, hosts: list[str]) -> None:
    """Inside the offices lock: the hosts are free, and the default office keeps answering."""
    if hosts:
        taken = await OfficeHost.select(OfficeHost.host).where(
            OfficeHost.host.is_in(hosts), OfficeHost.office != office_id
        )
        if taken:
            raise PlatformError("host_taken", "hosts", str(taken[0]["host"]))
    if office_id == DEFAULT_OFFICE_ID:
        others = await OfficeHost.exists().where(OfficeHost.office != DEFAULT_OFFICE_ID)
        if not hosts and others:
            raise PlatformError("default_office_keeps_host", "hosts")
    elif hosts and not await OfficeHost.exists().where(OfficeHost.office == DEFAULT_OFFICE_ID):
        raise PlatformError("default_office_needs_host", "hosts")


async def _write_hosts(office_id: int, hosts: list[str]) -> None:
    await OfficeHost.delete().where(
        OfficeHost.office == office_id, OfficeHost.host.not_in(hosts or [""])
    )
    have = set(await _hosts_of(office_id))
    for host in hosts:
        if host not in have:
            await OfficeHost(host=host, office=office_id).save()


async def create_office(
    *,
    slug: str,
    name: str,
    name_en: str = "",
    hosts: list[str] | tuple[str, ...] = (),
    sms_sender: str = "",
    base_url: str = "",
    development: bool = False,
    who: Who,
) -> int:
    """A new office with the standard forms and reply templates; returns its id."""
    slug = check_slug(slug)
    name = check_name(name)
    checked_hosts = check_hosts(hosts)
    sender = check_sender(sms_sender)
    url = check_base_url(base_url, development=development)
    try:
        # Across offices: the new office's id is known only once its row is written.
        with office_scope(None):
            office_id = await _insert_office(slug, name, name_en, checked_hosts, sender, url, who)
    except Exception as error:
        if is_unique_violation(error):  # a host or slug taken a moment ago
            raise PlatformError("host_taken", "hosts") from error
        raise
    await touch(office_id)
    return office_id


async def _insert_office(
    slug: str, name: str, name_en: str, hosts: list[str], sender: str, url: str, who: Who
) -> int:
    async with write_transaction(serialize=OFFICES_LOCK):
        if await Office.exists().where(Office.slug == slug):
            raise PlatformError("slug_taken", "slug")
        office = Office(
            slug=slug,
            name=name,
            name_en=" ".join(name_en.split())[:200],
            active=True,
            env_managed=False,
            base_url=url,
            sms_sender=sender,
            updated_at=datetime.now(UTC),
        )
        await office.save()
        office_id = int(office.id)
        await _check_host_rules(office_id, hosts)
        await _write_hosts(office_id, hosts)
        forms = await adopt(office_id)
        await seed_default_reply_templates(office_id=office_id)
        await audit.record(
            office_id=office_id,
            actor=who.actor,
            action="office_created",
            client_ip=who.client_ip,
            details={"slug": slug, "name": name, "hosts": hosts, "services": forms},
        )
    return office_id


async def _known(office_id: int) -> dict[str, Any]:
    row: dict[str, Any] | None = await Office.select().where(Office.id == office_id).first()
    if row is None:
        raise PlatformError("unknown_office")
    return row


async def set_hosts(office_id: int, hosts: list[str] | tuple[str, ...], *, who: Who) -> list[str]:
    """Replace the office's host names; returns them as saved."""
    checked = check_hosts(hosts)
    try:
        with office_scope(office_id):  # the office changed, under its row security
            async with write_transaction(serialize=OFFICES_LOCK):
                await _known(office_id)
                before = await _hosts_of(office_id)
                await _check_host_rules(office_id, checked)
                await _write_hosts(office_id, checked)
                await audit.record(
                    office_id=office_id,
                    actor=who.actor,
                    action="office_hosts_changed",
                    client_ip=who.client_ip,
                    details={"from": before, "to": checked},
                )
    except Exception as error:
        if is_unique_violation(error):
            raise PlatformError("host_taken", "hosts") from error
        raise
    await touch(office_id)
    return checked


async def change_hosts(office_id: int, *, add: list[str], remove: list[str], who: Who) -> list[str]:
    """``portal office hosts``: add and remove a few, keeping the rest."""
    current = await _hosts_of(office_id)
    gone = set(check_hosts(remove))
    wanted = [host for host in current if host not in gone] + check_hosts(add)
    return await set_hosts(office_id, wanted, who=who)


async def update_details(
    office_id: int, form: dict[str, Any], *, development: bool, who: Who
) -> None:
    """Contact, privacy contact, sender, budget, retention and base URLs (``DETAIL_FIELDS``)."""
    values = check_details(form, development=development)
    with office_scope(office_id):  # the office changed, under its row security
        async with write_transaction(serialize=OFFICES_LOCK):
            row = await _known(office_id)
            if row["env_managed"]:
                raise PlatformError("env_managed")
            changed = {key: value for key, value in values.items() if row[key] != value}
            if changed:
                await Office.update({getattr(Office, key): v for key, v in changed.items()}).where(
                    Office.id == office_id
                )
                await audit.record(
                    office_id=office_id,
                    actor=who.actor,
                    action="office_details_changed",
                    client_ip=who.client_ip,
                    details={"changed": sorted(changed)},
                )
    await touch(office_id)


async def set_active(office_id: int, active: bool, *, who: Who) -> bool:
    """Switch an office on or off (off: 404 on its hosts and prefix); False if it already was.
    The default office is the platform's own and is never switched off."""
    if office_id == DEFAULT_OFFICE_ID and not active:
        raise PlatformError("default_office")
    with office_scope(office_id):  # the office changed, under its row security
        async with write_transaction(serialize=OFFICES_LOCK):
            row = await _known(office_id)
            if bool(row["active"]) == active:
                return False
            await Office.update({Office.active: active}).where(Office.id == office_id)
            await audit.record(
                office_id=office_id,
                actor=who.actor,
                action="office_enabled" if active else "office_disabled",
                client_ip=who.client_ip,
                details={"slug": row["slug"]},
            )
    await touch(office_id)
    return True


async def office_id_for(slug: str) -> int | None:
    row = await Office.select(Office.id).where(Office.slug == slug.strip()).first()
    return int(row["id"]) if row else None


async def list_offices() -> list[OfficeSummary]:
    """Every office with its hosts and how many requests it holds (one query each)."""
    with office_scope(None):  # every office's request count
        return await _list_offices()


async def _list_offices() -> list[OfficeSummary]:
    offices = await Office.select(
        Office.id, Office.slug, Office.name, Office.name_en, Office.active
    ).order_by(Office.id)
    hosts: dict[int, list[str]] = {}
    for row in await OfficeHost.select(OfficeHost.host, OfficeHost.office).order_by(
        OfficeHost.host
    ):
        hosts.setdefault(int(row["office"]), []).append(str(row["host"]))
    counts = {
        int(row["office"]): int(row["count"])
        for row in await CitizenRequest.select(CitizenRequest.office, Count()).group_by(
            CitizenRequest.office
        )
    }
    return [
        OfficeSummary(
            id=int(row["id"]),
            slug=str(row["slug"]),
            name=str(row["name"]),
            name_en=str(row["name_en"]),
            hosts=tuple(hosts.get(int(row["id"]), [])),
            active=bool(row["active"]),
            requests=counts.get(int(row["id"]), 0),
        )
        for row in offices
    ]


async def office_row(office_id: int) -> dict[str, Any] | None:
    """The office's own columns (not the settings' fallbacks) and hosts, for its page."""
    row: dict[str, Any] | None = await Office.select().where(Office.id == office_id).first()
    if row is not None:
        row["hosts"] = await _hosts_of(office_id)
    return row


async def adopt_forms(office_id: int, slugs: list[str], *, who: Who) -> list[str]:
    """More library forms for an office (``portal.catalogue.library.adopt``), audited."""
    with office_scope(office_id):  # the office changed, under its row security
        async with write_transaction(serialize=OFFICES_LOCK):
            await _known(office_id)
            added = await adopt(office_id, slugs)
            if added:
                await audit.record(
                    office_id=office_id,
                    actor=who.actor,
                    action="office_forms_adopted",
                    client_ip=who.client_ip,
                    details={"services": added},
                )
    return added


async def service_slugs(office_id: int) -> set[str]:
    with office_scope(office_id):
        rows = await Service.select(Service.slug).where(Service.office == office_id)
    return {str(row["slug"]) for row in rows}
