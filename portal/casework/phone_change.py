"""Moving a request to the citizen's new phone number, after staff checked who they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.casework.case import Case, CaseError, open_case
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
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
    office: OfficeRef,
    sms: SmsConfig,
) -> PhoneChanged:
    """Call inside the caller's ``request_lock(number)`` (with its audit row). ``new_phone``
    is E.164; the request is ``office``'s own ``number``.

    The new number gets the new tracking link; the old number gets one SMS saying the request
    now reports to another number and whom to ask (the office's phone, ``office.dial``;
    empty: "ask at the office"), without the new number or any link. Both come from the
    office's sender, and the link starts at its link base. The old link's digest is kept so
    that ``/t/<old token>`` says the request moved (``portal/tracking/routes.py``).
    """
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise PhoneChangeError("reason_required")
    # Purge has run on an anonymised one: a new phone and a live tracking link would never
    # be removed.
    case = await open_case(number, PhoneChangeError, office=office)
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
    ).where(CitizenRequest.office == office.id, CitizenRequest.id == case.id)
    await MovedToken(
        office=office.id, token_hash=case.tracking_token_hash, request=case.id, moved_at=now
    ).save()
    await _tell_both(case, new_phone, token, now, office=office, sms=sms)
    return PhoneChanged(case.id, case.phone, new_phone)


async def _tell_both(
    case: Case, new_phone: str, token: str, now: datetime, *, office: OfficeRef, sms: SmsConfig
) -> None:
    """The new number gets the new link; the old one is told whom to ask, with no link."""
    config = sms.for_office(office)
    link = tracking_link(config.link_base or office.sms_link_base, token)
    text = render_sms("phone_changed.txt", number=case.number, tracking_url=link)
    await enqueue(
        config,
        office=office,
        to_phone=new_phone,
        text=text,
        purpose=SmsPurpose.phone_changed,
        now=now,
        request_id=case.id,
    )
    await enqueue(
        config,
        office=office,
        to_phone=case.phone,
        text=render_sms("phone_moved_away.txt", number=case.number, office_phone=office.dial),
        purpose=SmsPurpose.phone_moved,
        now=now,
        request_id=case.id,
    )
