"""Moving a request to the citizen's new phone number, after staff checked who they are."""

from __future__ import annotations

from dataclasses import dataclass

from portal.kernel.clock import utcnow
from portal.kernel.tracking_links import new_tracking_token, token_digest, tracking_link
from portal.office.contact import configured_contact
from portal.sms.outbox import SmsConfig, enqueue
from portal.sms.texts import render_sms
from portal.tables.citizen_request import CitizenRequest
from portal.tables.moved_token import MovedToken
from portal.tables.sms_message import SmsPurpose

MIN_REASON_LENGTH = 5


class PhoneChangeError(ValueError):
    """``code``: ``reason_required``, ``same_phone``, ``unknown_request`` or ``anonymised``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class PhoneChanged:
    request_id: int
    old_phone: str
    new_phone: str


async def change_phone(
    *,
    number: str,
    new_phone: str,
    reason: str,
    base_url: str,
    sms: SmsConfig,
    office_phone: str | None = None,
) -> PhoneChanged:
    """Call inside the caller's transaction (with its audit row). ``new_phone`` is E.164.

    The new number gets the new tracking link; the old number gets one SMS saying the request
    now reports to another number and whom to ask (``office_phone``, by default the contact
    page's phone), without the new number or any link. The old link's digest is kept so that
    ``/t/<old token>`` says the request moved (``portal/tracking/routes.py``).
    """
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise PhoneChangeError("reason_required")
    row = (
        await CitizenRequest.select(
            CitizenRequest.id,
            CitizenRequest.phone,
            CitizenRequest.tracking_token_hash,
            CitizenRequest.anonymised_at,
        )
        .where(CitizenRequest.number == number)
        .first()
    )
    if row is None:
        raise PhoneChangeError("unknown_request")
    if row["anonymised_at"] is not None:
        # Purge has run: a new phone and a live tracking link would never be removed.
        raise PhoneChangeError("anonymised")
    if row["phone"] == new_phone:
        raise PhoneChangeError("same_phone")
    now = utcnow()
    # A new tracking link: whoever holds the old number (a lost or passed-on SIM) must not
    # keep following this citizen's request through the old SMS.
    token = new_tracking_token()
    await CitizenRequest.update(
        {
            CitizenRequest.phone: new_phone,
            CitizenRequest.updated_at: now,
            CitizenRequest.tracking_token: token,
            CitizenRequest.tracking_token_hash: token_digest(token),
        }
    ).where(CitizenRequest.id == row["id"])
    await MovedToken(
        token_hash=row["tracking_token_hash"], request=int(row["id"]), moved_at=now
    ).save()
    link = tracking_link(sms.link_base or base_url, token)
    text = render_sms("phone_changed.txt", number=number, tracking_url=link)
    await enqueue(
        sms,
        to_phone=new_phone,
        text=text,
        purpose=SmsPurpose.phone_changed,
        now=now,
        request_id=int(row["id"]),
    )
    dial = configured_contact().dial if office_phone is None else office_phone
    await enqueue(
        sms,
        to_phone=row["phone"],
        text=render_sms("phone_moved_away.txt", number=number, office_phone=dial),
        purpose=SmsPurpose.phone_moved,
        now=now,
        request_id=int(row["id"]),
    )
    return PhoneChanged(int(row["id"]), row["phone"], new_phone)
