"""A passed code as a one-use verification, kept on the server.

The browser's session is a client-side cookie, so "used up" lives on the ``otp_challenge``
row (``consumed_at``): a replayed old cookie names a verification that is already consumed.
Filing consumes the submit verification it was opened under; a purpose whose action must
happen once per code (a later "reopen a request") consumes its own the same way.

A verification counts only at the office whose code passed: asked at another office (the same
browser, the same cookie), it is as if there were none.
"""

from __future__ import annotations

from datetime import datetime

from piccolo.custom_types import Combinable

from portal.kernel.offices import OfficeRef
from portal.tables.otp_challenge import OtpChallenge, OtpPurpose


def _open_verification(
    challenge_id: int, phone: str, purpose: str, office_id: int
) -> tuple[Combinable, ...]:
    return (
        OtpChallenge.id == challenge_id,
        OtpChallenge.office == office_id,
        OtpChallenge.phone == phone,
        OtpChallenge.purpose == purpose,
        OtpChallenge.used_at.is_not_null(),
        OtpChallenge.consumed_at.is_null(),
    )


async def verification_is_open(
    challenge_id: int, phone: str, purpose: str = OtpPurpose.submit, *, office: OfficeRef
) -> bool:
    """True while the code that passed (the verification) at ``office`` is not consumed yet."""
    return bool(
        await OtpChallenge.exists().where(
            *_open_verification(challenge_id, phone, purpose, office.id)
        )
    )


async def consume_verification(
    challenge_id: int,
    phone: str,
    now: datetime,
    purpose: str = OtpPurpose.submit,
    *,
    office: OfficeRef,
) -> bool:
    """Inside the action's transaction: one conditional UPDATE, so of any number of filings
    under one verification (form keys collected from many page loads, all at once) exactly
    one consumes it; the rest get False and must roll back."""
    rows = (
        await OtpChallenge.update({OtpChallenge.consumed_at: now})
        .where(*_open_verification(challenge_id, phone, purpose, office.id))
        .returning(OtpChallenge.id)
    )
    return bool(rows)
