"""Filing a request: the request, its first timeline event and its SMS in one transaction."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from portal.attachments.pending import link_pending
from portal.catalogue.location import Place
from portal.catalogue.service import ServiceInfo
from portal.db import is_unique_violation, write_transaction
from portal.kernel.clock import buddhist_year, utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.tracking_links import new_tracking_token, token_digest, tracking_link
from portal.otp.verifications import consume_verification
from portal.privacy.citizen_ids import CitizenIdVault, SplitAnswers, protect_answers
from portal.sms.outbox import SmsConfig, enqueue
from portal.sms.texts import render_sms
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from portal.tables.form_draft import FormDraft
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsPurpose

NUMBER_ATTEMPTS = 8
CITIZEN_ACTOR = "citizen"


class SubmissionKeyTaken(Exception):
    """The form's one-time key belongs to another phone's request: refuse, reveal nothing."""


class VerificationUsed(Exception):
    """The verification this form's key names has filed a request already: a new one needs a
    new code. Nothing was saved."""


class FilingLimited(Exception):
    """The phone filed ``limit`` requests in the last 24 hours. Nothing was saved."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("filings_per_day")
        self.retry_after_seconds = max(1, int(retry_after.total_seconds() + 0.999))


FILING_WINDOW = timedelta(hours=24)


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


async def _by_submission_key(key: str, office: OfficeRef) -> FiledRequest | None:
    """The request filed under ``key`` (globally unique). One of another office's is
    ``SubmissionKeyTaken``: that office's request is never answered here."""
    row = await CitizenRequest.select().where(CitizenRequest.submission_key == key).first()
    if row is None:
        return None
    if row["office"] != office.id:
        raise SubmissionKeyTaken
    return _filed(row)


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
    sms: SmsConfig,
    office: OfficeRef,
    place: Place | None = None,
    attachment_ids: Sequence[int] = (),
    verification: int | None = None,
    daily_limit: int | None = None,
    vault: CitizenIdVault | None = None,
) -> FiledRequest:
    """File once per form key and once per verification, at ``office``: the request, its
    event, its receipt SMS (``sms``: the office's sender and link base) and its number (unique
    within the office) are the office's; ``daily_limit`` counts filings at this office only.

    The same key again (a double click, a refresh, two presses at once) answers with the
    request it filed. ``verification`` (the passed code's ``OtpChallenge`` id, given by the
    citizen's route) is consumed by the filing: another key under it raises
    ``VerificationUsed``. A phone with ``daily_limit`` filings in 24 hours raises
    ``FilingLimited``. ``attachment_ids``: pending uploads of this form (its
    ``submission_key`` is their upload group) that become the request's in the same
    transaction; one that is gone refuses the filing with ``UploadRejected("missing")``.
    In every refusal nothing is saved. ``vault`` seals citizen IDs (``CitizenConfig.vault``);
    without one a form with a citizen ID is refused (``VaultNotConfigured``), never stored
    in the clear."""
    filing = _Filing(
        office,
        service,
        phone,
        answers,
        submission_key,
        place,
        attachment_ids,
        verification,
        daily_limit,
        vault,
    )
    for _ in range(NUMBER_ATTEMPTS):
        existing = await _by_submission_key(submission_key, office)
        if existing:
            if existing.phone != phone:
                raise SubmissionKeyTaken
            return existing
        try:
            return await _insert(filing, sms)
        except VerificationUsed:
            # Two presses of one form at once: the other press filed it, under this key.
            existing = await _by_submission_key(submission_key, office)
            if existing and existing.phone == phone:
                return existing
            raise
        except Exception as error:
            if not is_unique_violation(error):
                raise
            # Either the same form arrived twice at once (found by key on the next turn)
            # or the random number collided within the office (a new one is drawn).
    raise RuntimeError("could not allocate a request number")


@dataclass(frozen=True)
class _Filing:
    office: OfficeRef
    service: ServiceInfo
    phone: str
    answers: dict[str, str]
    submission_key: str
    place: Place | None
    attachment_ids: Sequence[int]
    verification: int | None
    daily_limit: int | None
    vault: CitizenIdVault | None


async def _ensure_below_daily_limit(
    office: OfficeRef, phone: str, limit: int, now: datetime
) -> None:
    """The phone's filings at this office (another office's do not count here)."""
    since = now - FILING_WINDOW
    rows = (
        await CitizenRequest.select(CitizenRequest.created_at)
        .where(
            CitizenRequest.office == office.id,
            CitizenRequest.phone == phone,
            CitizenRequest.created_at > since,
        )
        .order_by(CitizenRequest.created_at)
    )
    if len(rows) >= limit:
        # The count falls below the limit when the filing that tips it leaves the window.
        frees_at: datetime = rows[len(rows) - limit]["created_at"] + FILING_WINDOW
        raise FilingLimited(frees_at - now)


def _request_row(
    filing: _Filing, protected: SplitAnswers, number: str, token: str, now: datetime
) -> CitizenRequest:
    place = filing.place
    return CitizenRequest(
        office=filing.office.id,
        number=number,
        service=filing.service.id,
        phone=filing.phone,
        answers=json.dumps(protected.answers, ensure_ascii=False),
        citizen_id_encrypted=protected.citizen_id_encrypted,
        citizen_id_hash=protected.citizen_id_hash,
        status=RequestStatus.received,
        tracking_token=token,
        tracking_token_hash=token_digest(token),
        submission_key=filing.submission_key,
        created_at=now,
        updated_at=now,
        location_lat=place.lat if place else None,
        location_lng=place.lng if place else None,
        location_text=place.text if place else "",
    )


async def _insert(filing: _Filing, sms: SmsConfig) -> FiledRequest:
    office, service, phone = filing.office, filing.service, filing.phone
    submission_key = filing.submission_key
    token = new_tracking_token()
    # PDPA: citizen IDs leave ``answers`` (masked there), sealed and hashed beside them.
    protected = protect_answers(filing.vault, service.fields, filing.answers)
    async with write_transaction(serialize=f"filing:{office.id}:{phone}"):
        now = utcnow()  # after the lock: a wait for it must not stretch the window
        number = new_request_number(now)
        if filing.daily_limit is not None:
            await _ensure_below_daily_limit(office, phone, filing.daily_limit, now)
        request = _request_row(filing, protected, number, token, now)
        await request.save()
        # After the insert: a second press of this very form meets the unique key first and
        # is answered with this request; any other form under this verification stops here.
        if filing.verification is not None and not await consume_verification(
            filing.verification, phone, now, office=office
        ):
            raise VerificationUsed
        if filing.verification is not None:
            # What was kept while typing (portal/citizen/drafts.py) goes with the verification.
            await FormDraft.delete().where(
                FormDraft.office == office.id, FormDraft.verification == filing.verification
            )
        await link_pending(
            request_id=int(request.id),
            upload_group=submission_key,
            phone=phone,
            attachment_ids=filing.attachment_ids,
            office=office,
        )
        await RequestEvent(
            office=office.id,
            request=request.id,
            status=RequestStatus.received,
            actor=CITIZEN_ACTOR,
            public_note="",
            created_at=now,
        ).save()
        link = tracking_link(office.sms_link_base, token)
        text = render_sms("receipt.txt", number=number, tracking_url=link)
        await enqueue(
            sms,
            office=office,
            to_phone=phone,
            text=text,
            purpose=SmsPurpose.receipt,
            now=now,
            request_id=int(request.id),
        )
    return FiledRequest(int(request.id), number, phone, service.id, now, tracking_token=token)


async def get_filed_request(number: str, *, office: OfficeRef) -> FiledRequest | None:
    """The office's request ``number`` (numbers repeat across offices)."""
    row = (
        await CitizenRequest.select()
        .where(CitizenRequest.office == office.id, CitizenRequest.number == number)
        .first()
    )
    return _filed(row) if row else None
