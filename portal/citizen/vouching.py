"""Which verification a form's key works under: the form's key first, else this browser's
open verification with a new key (``portal.otp.verified`` holds the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from portal.attachments.pending import move_pending
from portal.citizen.deps import CitizenConfig
from portal.kernel.offices import OfficeRef
from portal.otp.form_keys import is_form_key
from portal.otp.policy import OtpPolicy
from portal.otp.purposes import SUBMIT
from portal.otp.verified import (
    Verification,
    new_form_key,
    open_verification,
    vouched_by_form_key,
)


def vouched_filing(
    request: Request[Any, Any, Any], citizen: CitizenConfig, key: str, *, office: OfficeRef
) -> tuple[str, int] | None:
    """(phone, verification) the form's key vouches for: issued to this very browser at this
    office for the phone it verified, recently (so a citizen typing past the verified window
    keeps going)."""
    vouched = vouched_by_form_key(request.session, citizen.form_key, key, SUBMIT, office=office)
    return (vouched.phone, vouched.challenge) if vouched is not None else None


@dataclass(frozen=True)
class VouchedForm:
    verification: Verification
    key: str
    """The key the form files under: its own, or a new one of this browser's."""
    renewed: bool = False
    """The form's key was not this browser's: it comes back with the new key to check and send."""


async def vouch_form(
    request: Request[Any, Any, Any],
    citizen: CitizenConfig,
    policy: OtpPolicy,
    key: str,
    *,
    office: OfficeRef,
) -> VouchedForm | None:
    """The verification a sent form files under, or None: the phone must be verified again."""
    session = request.session
    vouched = vouched_by_form_key(session, citizen.form_key, key, SUBMIT, office=office)
    if vouched is not None:
        return VouchedForm(vouched, key)
    # No key of this browser's verification: an old page, a hand-made POST, or a key issued
    # to another browser or phone (copied, or this browser verified again since; filing
    # with it would take that form's key from its citizen). A new key is issued under this
    # browser's open verification, if there is one.
    current = await open_verification(session, SUBMIT, policy, office=office)
    if current is None:
        return None
    new_key = new_form_key(session, citizen.form_key, current, office=office)
    if not is_form_key(key):
        return VouchedForm(current, new_key)
    # Shown again to check and send; the form's files come along (same phone only).
    await move_pending(from_key=key, to_key=new_key, phone=current.phone, office=office)
    return VouchedForm(current, new_key, renewed=True)
