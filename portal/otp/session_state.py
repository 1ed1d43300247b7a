"""What the signed cookie session holds about phone verification, and for how long.

Plain functions over the session mapping, so the rules are testable without a web stack.
Everything is kept per purpose (``submit`` or ``track``): a phone proved for filing is not
proved for reading, and the other way round.
- ``browser``: a random id the codes are bound to; replaced when a code passes, so a
  session id planted before verification (fixation) is worthless afterwards.
- ``otp:<purpose>``: the code being waited for (challenge id, phone, when a resend is allowed).
- ``verified:<purpose>``: the phone that passed, when it was last used, and which code passed
  (``challenge``): for filing that row is the verification a filing consumes, server-side.
- ``resume:<purpose>``: the open page a verification again should close onto.
- ``submitted``: request numbers this browser filed, each with a fingerprint of the tracking
  link it was given, so it alone sees their success pages, and only while that link stands.

The cookie is one per host, so offices reached on one host (``/o/<slug>/`` in development, or
a platform that shares a cookie domain) share it: the pending code and the verified phone
carry the ``office`` they belong to, and every read names the office asking, so a phone
verified at office A is not verified at office B. An entry without ``office`` predates offices
and belongs to the default office.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from portal.kernel.offices import OfficeRef
from portal.tables.office import DEFAULT_OFFICE_ID

MAX_REMEMBERED_SUBMISSIONS = 10


@dataclass(frozen=True)
class PendingCode:
    challenge_id: int
    phone: str
    next_step: str
    """Where to go once the code passes: a service slug, or a request number when tracking."""
    resend_at: datetime
    expires_at: datetime

    def is_live(self, now: datetime) -> bool:
        return now < self.expires_at


def _entry(session: dict[str, Any], key: str, office: OfficeRef) -> dict[str, Any] | None:
    """The session's ``key`` entry if it belongs to ``office``; None otherwise."""
    data = session.get(key)
    if not isinstance(data, dict) or data.get("office", DEFAULT_OFFICE_ID) != office.id:
        return None
    return data


def browser_id(session: dict[str, Any]) -> str:
    if not session.get("browser"):
        session["browser"] = secrets.token_urlsafe(24)
    return str(session["browser"])


def set_pending_code(
    session: dict[str, Any], purpose: str, code: PendingCode, *, office: OfficeRef
) -> None:
    session[f"otp:{purpose}"] = {
        "office": office.id,
        "id": code.challenge_id,
        "phone": code.phone,
        "next": code.next_step,
        "resend_at": code.resend_at.timestamp(),
        "expires_at": code.expires_at.timestamp(),
    }


def pending_code(session: dict[str, Any], purpose: str, *, office: OfficeRef) -> PendingCode | None:
    data = _entry(session, f"otp:{purpose}", office)
    if data is None:
        return None
    try:
        return PendingCode(
            challenge_id=int(data["id"]),
            phone=str(data["phone"]),
            next_step=str(data["next"]),
            resend_at=datetime.fromtimestamp(float(data["resend_at"]), UTC),
            expires_at=datetime.fromtimestamp(float(data["expires_at"]), UTC),
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def mark_verified(
    session: dict[str, Any],
    purpose: str,
    phone: str,
    now: datetime,
    challenge: int = 0,
    *,
    office: OfficeRef,
) -> None:
    session.pop(f"otp:{purpose}", None)
    session["browser"] = secrets.token_urlsafe(24)
    session[f"verified:{purpose}"] = {
        "office": office.id,
        "phone": phone,
        "at": now.timestamp(),
        "challenge": challenge,
    }


def verified_challenge(session: dict[str, Any], purpose: str, *, office: OfficeRef) -> int | None:
    """The id of the code that passed (the verification), however long ago; None if unknown."""
    data = _entry(session, f"verified:{purpose}", office)
    value = data.get("challenge") if data is not None else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def verified_phone(
    session: dict[str, Any],
    purpose: str,
    now: datetime,
    valid_for: timedelta,
    *,
    office: OfficeRef,
) -> str | None:
    data = _entry(session, f"verified:{purpose}", office)
    if data is None:
        return None
    try:
        at = float(data["at"])
        phone = str(data["phone"])
    except (KeyError, TypeError, ValueError):
        return None
    if now.timestamp() - at > valid_for.total_seconds():
        return None
    return phone


def last_verified_phone(session: dict[str, Any], purpose: str, *, office: OfficeRef) -> str | None:
    """The phone that passed, however long ago: only for checks that bring their own proof."""
    data = _entry(session, f"verified:{purpose}", office)
    phone = data.get("phone") if data is not None else None
    return phone if isinstance(phone, str) else None


def keep_verified(session: dict[str, Any], purpose: str, now: datetime) -> None:
    """Slide the window while the citizen is active: idle time counts, working does not."""
    data = session.get(f"verified:{purpose}")
    if isinstance(data, dict):
        session[f"verified:{purpose}"] = {**data, "at": now.timestamp()}


def expire_verified(session: dict[str, Any], purpose: str) -> None:
    """End the window but remember the phone (for form keys that carry their own proof)."""
    data = session.get(f"verified:{purpose}")
    if isinstance(data, dict):
        session[f"verified:{purpose}"] = {**data, "at": 0}


def forget_verified(session: dict[str, Any], purpose: str) -> bool:
    """Forget the phone that passed; True if one had (so a page can say the check lapsed)."""
    return session.pop(f"verified:{purpose}", None) is not None


def set_resume(session: dict[str, Any], purpose: str, next_step: str | None) -> None:
    """Note (or, with None, clear) that the phone is being verified again over an open page
    of ``next_step`` (its words on screen): once the code passes, the dialog closes onto it."""
    if next_step is None:
        session.pop(f"resume:{purpose}", None)
    else:
        session[f"resume:{purpose}"] = next_step


def take_resume(session: dict[str, Any], purpose: str) -> str | None:
    """The page noted by ``set_resume``, forgotten as it is read."""
    value = session.pop(f"resume:{purpose}", None)
    return value if isinstance(value, str) else None


def link_fingerprint(tracking_token: str) -> str:
    """Enough of the tracking link's digest to tell whether it is still the same link."""
    return hashlib.sha256(tracking_token.encode()).hexdigest()[:16]


def remember_submitted(session: dict[str, Any], number: str, tracking_token: str) -> None:
    kept = [
        entry
        for entry in session.get("submitted", [])
        if isinstance(entry, list) and entry and entry[0] != number
    ]
    session["submitted"] = [*kept, [number, link_fingerprint(tracking_token)]][
        -MAX_REMEMBERED_SUBMISSIONS:
    ]


def filed_here(session: dict[str, Any], number: str, tracking_token: str | None = None) -> bool:
    """This browser filed ``number`` (checked first, without the database) and, given the
    request's ``tracking_token``, was handed the link it still has: after staff move a request
    to a new phone (the link is replaced), the old browser no longer sees it."""
    submitted = session.get("submitted", [])
    if not isinstance(submitted, list):
        return False
    entries = [e for e in submitted if isinstance(e, list) and len(e) == 2 and e[0] == number]
    if tracking_token is None:
        return bool(entries)
    return [number, link_fingerprint(tracking_token)] in entries
