"""What the SMS link shows: number, service, status and timeline; no personal data."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from portal.tables.citizen_request import CitizenRequest
from portal.tables.request_event import RequestEvent
from portal.tracking.tokens import looks_like_token, token_digest


@dataclass(frozen=True)
class TimelineEntry:
    status: str
    public_note: str
    created_at: datetime


@dataclass(frozen=True)
class TrackedRequest:
    number: str
    service_name: str
    status: str
    phone: str
    created_at: datetime
    timeline: list[TimelineEntry]


async def find_by_token(token: str) -> TrackedRequest | None:
    if not looks_like_token(token):
        return None
    row = (
        await CitizenRequest.select(
            CitizenRequest.id,
            CitizenRequest.number,
            CitizenRequest.status,
            CitizenRequest.phone,
            CitizenRequest.created_at,
            CitizenRequest.tracking_token,
            CitizenRequest.service.name.as_alias("service_name"),
        )
        .where(CitizenRequest.tracking_token_hash == token_digest(token))
        .first()
    )
    if row is None or not hmac.compare_digest(row["tracking_token"], token):
        return None
    events = (
        await RequestEvent.select(
            RequestEvent.status, RequestEvent.public_note, RequestEvent.created_at
        )
        .where(RequestEvent.request == row["id"])
        .order_by(RequestEvent.created_at)
        .order_by(RequestEvent.id)
    )
    return TrackedRequest(
        number=row["number"],
        service_name=row["service_name"],
        status=row["status"],
        phone=row["phone"],
        created_at=row["created_at"],
        timeline=[TimelineEntry(**event) for event in events],
    )
