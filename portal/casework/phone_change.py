"""Moving a request to the citizen's new phone number, after staff checked who they are."""

from __future__ import annotations

from dataclasses import dataclass

from portal.casework.case import CaseError, open_case
from portal.kernel.clock import utcnow
from portal.kernel.tracking_links import new_tracking_token, token_digest, tracking_link
from portal.sms.outbox import SmsConfig, enqueue
from portal.sms.texts import render_sms
from portal.tables.citizen_request import CitizenRequest
from portal.tables.moved_token import MovedToken
from portal.tables.sms_message import SmsPurpose

MIN_REASON_LENGTH = 5


class PhoneChangeError(CaseError):
    """``code``: ``reason_required``, ``same_phone``, ``unknown_request`` or ``anonymised``
    (or a ``PhoneError`` code for a new number that is no Thai mobile)."""


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
    office_phone: str = "",
) -> PhoneChanged:
    """Call inside the caller's ``request_lock(number)`` (with its audit row). ``new_phone``
    is E.164.

    The new number gets the new tracking link; the old number gets one SMS saying the request
    now reports to another number and whom to ask (``office_phone``, the contact page's phone
    from ``StaffConfig``; empty: "ask at the office"), without the new number or any link. The
    old link's digest is kept so that ``/t/<old token>`` says the request moved
    (``portal/tracking/routes.py``).
    """
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise PhoneChangeError("reason_required")
    # Purge has run on an anonymised one: a new phone and a live tracking link would never
    # be removed.
    case = await open_case(number, PhoneChangeError)
    if case.phone == new_phone:
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
    ).where(CitizenRequest.id == case.id)
    await MovedToken(token_hash=case.tracking_token_hash, request=case.id, moved_at=now).save()
    link = tracking_link(sms.link_base or base_url, token)
    text = render_sms("phone_changed.txt", number=number, tracking_url=link)
    await enqueue(
        sms,
        to_phone=new_phone,
        text=text,
        purpose=SmsPurpose.phone_changed,
        now=now,
        request_id=case.id,
    )
    await enqueue(
        sms,
        to_phone=case.phone,
        text=render_sms("phone_moved_away.txt", number=number, office_phone=office_phone),
        purpose=SmsPurpose.phone_moved,
        now=now,
        request_id=case.id,
    )
    return PhoneChanged(case.id, case.phone, new_phone)
