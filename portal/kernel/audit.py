"""The audit log: insert-only. Callers record inside the transaction of the change they make."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.db import json_object
from portal.kernel.clock import utcnow
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest

PAGE_SIZE = 50


async def record(
    *,
    office_id: int,
    actor: str,
    action: str,
    client_ip: str = "",
    request_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await AuditEvent(
        office=office_id,
        created_at=utcnow(),
        actor=actor,
        action=action,
        request=request_id,
        client_ip=client_ip,
        details=json.dumps(details or {}, ensure_ascii=False),
    ).save()


@dataclass(frozen=True)
class AuditEntry:
    created_at: datetime
    actor: str
    action: str
    request_number: str | None
    client_ip: str
    details: dict[str, Any]


async def list_events(
    *,
    office_id: int,
    actor: str = "",
    action: str = "",
    request_number: str = "",
    page: int = 1,
) -> tuple[list[AuditEntry], bool]:
    """Newest first; returns one page and whether there is another."""
    query = (
        AuditEvent.select(
            AuditEvent.created_at,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.client_ip,
            AuditEvent.details,
            AuditEvent.request.number.as_alias("request_number"),
        )
        .where(AuditEvent.office == office_id)
        .order_by(AuditEvent.id, ascending=False)
    )
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(AuditEvent.action == action)
    if request_number:
        query = query.where(
            AuditEvent.request.is_in(
                CitizenRequest.select(CitizenRequest.id).where(
                    (CitizenRequest.office == office_id) & (CitizenRequest.number == request_number)
                )
            )
        )
    rows = await query.limit(PAGE_SIZE + 1).offset((max(page, 1) - 1) * PAGE_SIZE)
    entries = [
        AuditEntry(
            created_at=row["created_at"],
            actor=row["actor"],
            action=row["action"],
            request_number=row["request_number"],
            client_ip=row["client_ip"],
            details=json_object(row["details"]),
        )
        for row in rows[:PAGE_SIZE]
    ]
    return entries, len(rows) > PAGE_SIZE
