"""Reads for tracking. Every read that can reach personal data takes the verified phone and
filters by it in the query itself, so no route can forget the check (issue: access control).

Every read also takes the office the request came in on and filters by it in the same query:
a request of another office (its token, its number, the same phone filed there) is found
exactly as often as one that does not exist. Tracking token hashes are unique across offices,
so a token still names one request; the office filter only decides whether it is answered."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from portal.catalogue.service import load_fields
from portal.db import json_object
from portal.kernel.offices import OfficeRef
from portal.kernel.tracking_links import looks_like_token, token_digest
from portal.tables.citizen_request import CitizenRequest
from portal.tables.moved_token import MovedToken
from portal.tables.request_event import RequestEvent


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
    answers: list[tuple[str, str]] = field(default_factory=list)
    service_name_en: str = ""
    """(label, value) pairs the citizen entered; filled only for a verified phone."""
    has_citizen_id: bool = False
    """A citizen ID is sealed with the request (``answers`` shows it masked)."""
    anonymised_at: datetime | None = None
    """Retention ended (``portal purge``): the personal data is gone."""
    tracking_token: str = ""
    """The SMS link's credential, for the receipt links (the page is shown only to its owner)."""
    labels_en: dict[str, str] = field(default_factory=dict)
    """English for the Thai labels in ``answers``, where the office wrote some (English pages)."""


@dataclass(frozen=True)
class RequestSummary:
    number: str
    service_name: str
    status: str
    created_at: datetime
    updated_at: datetime
    service_name_en: str = ""


_COLUMNS = (
    CitizenRequest.id,
    CitizenRequest.number,
    CitizenRequest.status,
    CitizenRequest.phone,
    CitizenRequest.created_at,
    CitizenRequest.tracking_token,
    CitizenRequest.answers,
    CitizenRequest.citizen_id_hash,
    CitizenRequest.anonymised_at,
    CitizenRequest.service.name.as_alias("service_name"),
    CitizenRequest.service.name_en.as_alias("service_name_en"),
    CitizenRequest.service.form_fields.as_alias("service_fields"),
)


async def _timeline(request_id: int, office_id: int) -> list[TimelineEntry]:
    events = (
        await RequestEvent.select(
            RequestEvent.status, RequestEvent.public_note, RequestEvent.created_at
        )
        .where(RequestEvent.request == request_id, RequestEvent.office == office_id)
        .order_by(RequestEvent.created_at)
        .order_by(RequestEvent.id)
    )
    return [TimelineEntry(**event) for event in events]


def _labelled_answers(row: dict[str, Any]) -> list[tuple[str, str]]:
    answers: dict[str, str] = json_object(row["answers"])
    labelled = []
    for form_field in load_fields(row["service_fields"]):
        value = answers.pop(form_field.name, "")
        if value:
            labelled.append((form_field.label, value))
    # Answers to fields the office has since removed are still the citizen's words: show them.
    labelled.extend((name, value) for name, value in answers.items() if value)
    return labelled


def _labels_en(row: dict[str, Any]) -> dict[str, str]:
    return {f.label: f.label_en for f in load_fields(row["service_fields"]) if f.label_en}


async def _tracked(row: dict[str, Any], office_id: int, *, with_answers: bool) -> TrackedRequest:
    return TrackedRequest(
        number=row["number"],
        service_name=row["service_name"],
        status=row["status"],
        phone=row["phone"],
        created_at=row["created_at"],
        timeline=await _timeline(int(row["id"]), office_id),
        answers=_labelled_answers(row) if with_answers else [],
        service_name_en=row["service_name_en"] or "",
        has_citizen_id=bool(row["citizen_id_hash"]),
        anonymised_at=row["anonymised_at"],
        tracking_token=row["tracking_token"] or "",
        labels_en=_labels_en(row) if with_answers else {},
    )


async def find_by_token(token: str, *, office: OfficeRef) -> TrackedRequest | None:
    """Way 1: the SMS link. Status and timeline only, never what the citizen wrote. Another
    office's token is looked up by the same one query and answers None, like an unknown one."""
    if not looks_like_token(token):
        return None
    row = (
        await CitizenRequest.select(*_COLUMNS)
        .where(
            CitizenRequest.tracking_token_hash == token_digest(token),
            CitizenRequest.office == office.id,
        )
        .first()
    )
    if row is None or not hmac.compare_digest(row["tracking_token"], token):
        return None
    return await _tracked(row, office.id, with_answers=False)


async def requests_for_phone(phone: str, *, office: OfficeRef) -> list[RequestSummary]:
    """Way 2: the verified phone's own requests at this office, newest first (the same phone's
    requests at another office are that office's business)."""
    rows = (
        await CitizenRequest.select(
            CitizenRequest.number,
            CitizenRequest.status,
            CitizenRequest.created_at,
            CitizenRequest.updated_at,
            CitizenRequest.service.name.as_alias("service_name"),
            CitizenRequest.service.name_en.as_alias("service_name_en"),
        )
        .where(CitizenRequest.phone == phone, CitizenRequest.office == office.id)
        .order_by(CitizenRequest.created_at, ascending=False)
        .order_by(CitizenRequest.id, ascending=False)
    )
    return [RequestSummary(**row) for row in rows]


async def request_by_number(
    number: str, *, office: OfficeRef
) -> tuple[int, TrackedRequest, int | None, int] | None:
    """For staff: the request in full with its id, assignee and service id (numbers are
    unique per office only: the office is part of the key)."""
    row = (
        await CitizenRequest.select(
            *_COLUMNS, CitizenRequest.assigned_to, CitizenRequest.service.id.as_alias("service_id")
        )
        .where(CitizenRequest.number == number, CitizenRequest.office == office.id)
        .first()
    )
    if row is None:
        return None
    tracked = await _tracked(row, office.id, with_answers=True)
    return int(row["id"]), tracked, row["assigned_to"], int(row["service_id"])


async def request_for_phone(number: str, phone: str, *, office: OfficeRef) -> TrackedRequest | None:
    """One request in full, only if it was filed with ``phone``; otherwise as if unknown."""
    row = (
        await CitizenRequest.select(*_COLUMNS)
        .where(
            CitizenRequest.number == number,
            CitizenRequest.phone == phone,
            CitizenRequest.office == office.id,
        )
        .first()
    )
    return await _tracked(row, office.id, with_answers=True) if row else None


async def link_moved(token: str, *, office: OfficeRef) -> bool:
    """The token was a request's link at this office before staff moved it to a new phone
    (another office's moved link is as unknown here as any other token)."""
    if not looks_like_token(token):
        return False
    return bool(
        await MovedToken.exists().where(
            MovedToken.token_hash == token_digest(token), MovedToken.office == office.id
        )
    )
