"""Filing a request: the request, its first timeline event and its SMS in one transaction."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.attachments.service import link_pending
from portal.catalogue.location import Place
from portal.catalogue.service import ServiceInfo
from portal.db import is_unique_violation, write_transaction
from portal.privacy.citizen_ids import protect_answers
from portal.sms.outbox import SmsConfig, enqueue
from portal.sms.texts import render_sms
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsPurpose
from portal.timeutil import buddhist_year, utcnow
from portal.tracking.tokens import new_tracking_token, token_digest

NUMBER_ATTEMPTS = 8
CITIZEN_ACTOR = "citizen"


class SubmissionKeyTaken(Exception):
    """The form's one-time key belongs to another phone's request: refuse, reveal nothing."""


@dataclass(frozen=True)
class FiledRequest:
    id: int
    number: str
    phone: str
    service_id: int
    created_at: datetime
    tracking_token: str = ""
    """For the receipt links on the success page (its browser filed the request)."""


def new_request_number(now: datetime) -> str:
    """69-482913: Buddhist-era year and six random digits, easy to read out over the phone.

    Random rather than sequential so it says nothing about how many requests an office gets;
    it is never a credential (the tracking token is).
    """
    return f"{buddhist_year(now) % 100:02d}-{secrets.randbelow(10**6):06d}"


def new_submission_key() -> str:
    """Put in each rendered form; the same key twice files one request (double click, refresh)."""
    return secrets.token_urlsafe(24)


async def _by_submission_key(key: str) -> FiledRequest | None:
    row = await CitizenRequest.select().where(CitizenRequest.submission_key == key).first()
    return _filed(row) if row else None


def _filed(row: dict[str, Any]) -> FiledRequest:
    return FiledRequest(
        id=int(row["id"]),
        number=row["number"],
        phone=row["phone"],
        service_id=int(row["service"]),
        created_at=row["created_at"],
        tracking_token=row["tracking_token"] or "",
    )


async def file_request(
    *,
    service: ServiceInfo,
    phone: str,
    answers: dict[str, str],
    submission_key: str,
    base_url: str,
    sms: SmsConfig,
    place: Place | None = None,
    attachment_ids: Sequence[int] = (),
) -> FiledRequest:
    """``attachment_ids``: pending uploads of this form (its ``submission_key`` is their upload
    group) that become the request's in the same transaction; one that is gone refuses the
    filing with ``UploadRejected("missing")`` and nothing is saved."""
    for _ in range(NUMBER_ATTEMPTS):
        existing = await _by_submission_key(submission_key)
        if existing:
            if existing.phone != phone:
                raise SubmissionKeyTaken
            return existing
        try:
            return await _insert(
                service, phone, answers, submission_key, base_url, sms, place, attachment_ids
            )
        except Exception as error:
            if not is_unique_violation(error):
                raise
            # Either the same form arrived twice at once (found by key on the next turn)
            # or the random number collided (a new one is drawn).
    raise RuntimeError("could not allocate a request number")


async def _insert(
    service: ServiceInfo,
    phone: str,
    answers: dict[str, str],
    submission_key: str,
    base_url: str,
    sms: SmsConfig,
    place: Place | None = None,
    attachment_ids: Sequence[int] = (),
) -> FiledRequest:
    now = utcnow()
    token = new_tracking_token()
    number = new_request_number(now)
    # PDPA: citizen IDs leave ``answers`` (masked there), sealed and hashed beside them.
    protected = protect_answers(service.fields, answers)
    async with write_transaction():
        request = CitizenRequest(
            number=number,
            service=service.id,
            phone=phone,
            answers=json.dumps(protected.answers, ensure_ascii=False),
            citizen_id_encrypted=protected.citizen_id_encrypted,
            citizen_id_hash=protected.citizen_id_hash,
            status=RequestStatus.received,
            tracking_token=token,
            tracking_token_hash=token_digest(token),
            submission_key=submission_key,
            created_at=now,
            updated_at=now,
            location_lat=place.lat if place else None,
            location_lng=place.lng if place else None,
            location_text=place.text if place else "",
        )
        await request.save()
        await link_pending(
            request_id=int(request.id),
            upload_group=submission_key,
            phone=phone,
            attachment_ids=attachment_ids,
        )
        await RequestEvent(
            request=request.id,
            status=RequestStatus.received,
            actor=CITIZEN_ACTOR,
            public_note="",
            created_at=now,
        ).save()
        text = render_sms("receipt.txt", number=number, tracking_url=f"{base_url}/t/{token}")
        await enqueue(
            sms,
            to_phone=phone,
            text=text,
            purpose=SmsPurpose.receipt,
            now=now,
            request_id=int(request.id),
        )
    return FiledRequest(int(request.id), number, phone, service.id, now, tracking_token=token)


async def get_filed_request(number: str) -> FiledRequest | None:
    row = await CitizenRequest.select().where(CitizenRequest.number == number).first()
    return _filed(row) if row else None
