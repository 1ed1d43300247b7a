"""Which phone this browser proved, and for what: what controllers receive instead of reading
the session themselves.

- ``verified_phone(purpose)``: a Litestar dependency, the phone checked within the purpose's
  window (or None); ``slide=True`` counts the visit as activity. With ``required=True`` it is
  the guard: no phone, the same 404 as a page that does not exist (``PhoneNotVerified``).
- ``open_verification``: the check that passed, while it has not been consumed on the server
  (filing consumes it), for pages that act once per code.
- ``vouched_by_form_key``: the phone and verification a form's key was issued under, for work
  that goes on past the window (an older citizen typing a long complaint).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.otp import session_state
from portal.otp.config import OtpConfig
from portal.otp.form_keys import form_key_verification, is_form_key, issue_form_key
from portal.otp.policy import OtpPolicy
from portal.otp.purposes import Purpose
from portal.otp.verifications import verification_is_open


@dataclass(frozen=True)
class Verification:
    phone: str
    challenge: int
    """The ``otp_challenge`` row of the code that passed."""


class PhoneNotVerified(NotFoundException):
    """The guard's refusal: the same 404 as a page that does not exist."""


def current_phone(
    session: dict[str, Any],
    purpose: Purpose,
    policy: OtpPolicy,
    *,
    office: OfficeRef,
    slide: bool = False,
) -> str | None:
    now = utcnow()
    phone = session_state.verified_phone(
        session, purpose.key, now, purpose.window(policy), office=office
    )
    if phone is not None and slide:
        session_state.keep_verified(session, purpose.key, now)  # working is not idling
    return phone


def verified_phone(purpose: Purpose, *, slide: bool = False, required: bool = False) -> Provide:
    """The dependency (named ``verified_phone`` where it is used) for ``purpose``."""

    def provide(
        request: Request[Any, Any, Any],
        otp: NamedDependency[OtpConfig],
        office: NamedDependency[OfficeRef],
    ) -> str | None:
        phone = current_phone(request.session, purpose, otp.policy, office=office, slide=slide)
        if phone is None and required:
            raise PhoneNotVerified()
        return phone

    return Provide(provide, sync_to_thread=False)


async def open_verification(
    session: dict[str, Any], purpose: Purpose, policy: OtpPolicy, *, office: OfficeRef
) -> Verification | None:
    """This browser's verification within its window and not consumed (checked on the server:
    the session is a client cookie). A consumed one ends the window, the phone remembered."""
    phone = session_state.verified_phone(
        session, purpose.key, utcnow(), purpose.window(policy), office=office
    )
    challenge = session_state.verified_challenge(session, purpose.key, office=office)
    if phone is None or challenge is None:
        return None
    if not await verification_is_open(challenge, phone, purpose.key, office=office):
        session_state.expire_verified(session, purpose.key)
        return None
    return Verification(phone, challenge)


def new_form_key(
    session: dict[str, Any], secret: bytes, verification: Verification, *, office: OfficeRef
) -> str:
    """A form key for this browser, its verified phone, the verification it works under and
    the office it was shown at."""
    return issue_form_key(
        secret,
        browser=session_state.browser_id(session),
        phone=verification.phone,
        verification=verification.challenge,
        now=utcnow(),
        office_id=office.id,
    )


def vouched_by_form_key(
    session: dict[str, Any], secret: bytes, key: str, purpose: Purpose, *, office: OfficeRef
) -> Verification | None:
    """What the form's key vouches for: issued to this very browser at this office for the
    phone it verified, recently (so a citizen typing past the verified window keeps going)."""
    remembered = session_state.last_verified_phone(session, purpose.key, office=office)
    if not remembered or not is_form_key(key):
        return None
    challenge = form_key_verification(
        secret,
        key,
        browser=session_state.browser_id(session),
        phone=remembered,
        now=utcnow(),
        office_id=office.id,
    )
    return Verification(remembered, challenge) if challenge is not None else None


def code_on_its_way(
    session: dict[str, Any], purpose: Purpose, next_step: str, *, office: OfficeRef
) -> bool:
    """A live code was sent for ``next_step`` at this office: back to it, rather than sending
    a new one."""
    pending = session_state.pending_code(session, purpose.key, office=office)
    return pending is not None and pending.next_step == next_step and pending.is_live(utcnow())
