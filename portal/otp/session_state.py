"""What the signed cookie session holds about phone verification, and for how long.

Plain functions over the session mapping, so the rules are testable without a web stack.
Everything is kept per purpose (``submit`` or ``track``): a phone proved for filing is not
proved for reading, and the other way round.
- ``browser``: a random id the codes are bound to; replaced when a code passes, so a
  session id planted before verification (fixation) is worthless afterwards.
- ``otp:<purpose>``: the code being waited for (challenge id, phone, when a resend is allowed).
- ``verified:<purpose>``: the phone that passed, and when it was last used.
- ``submitted``: request numbers this browser filed, so it alone sees their success pages.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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


def browser_id(session: dict[str, Any]) -> str:
    if not session.get("browser"):
        session["browser"] = secrets.token_urlsafe(24)
    return str(session["browser"])


def set_pending_code(session: dict[str, Any], purpose: str, code: PendingCode) -> None:
    session[f"otp:{purpose}"] = {
        "id": code.challenge_id,
        "phone": code.phone,
        "next": code.next_step,
        "resend_at": code.resend_at.timestamp(),
        "expires_at": code.expires_at.timestamp(),
    }


def pending_code(session: dict[str, Any], purpose: str) -> PendingCode | None:
    data = session.get(f"otp:{purpose}")
    if not isinstance(data, dict):
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


def mark_verified(session: dict[str, Any], purpose: str, phone: str, now: datetime) -> None:
    session.pop(f"otp:{purpose}", None)
    session["browser"] = secrets.token_urlsafe(24)
    session[f"verified:{purpose}"] = {"phone": phone, "at": now.timestamp()}


def verified_phone(
    session: dict[str, Any], purpose: str, now: datetime, valid_for: timedelta
) -> str | None:
    data = session.get(f"verified:{purpose}")
    if not isinstance(data, dict):
        return None
    try:
        at = float(data["at"])
        phone = str(data["phone"])
    except (KeyError, TypeError, ValueError):
        return None
    if now.timestamp() - at > valid_for.total_seconds():
        return None
    return phone


def last_verified_phone(session: dict[str, Any], purpose: str) -> str | None:
    """The phone that passed, however long ago: only for checks that bring their own proof."""
    data = session.get(f"verified:{purpose}")
    phone = data.get("phone") if isinstance(data, dict) else None
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


def forget_verified(session: dict[str, Any], purpose: str) -> None:
    session.pop(f"verified:{purpose}", None)


def remember_submitted(session: dict[str, Any], number: str) -> None:
    numbers = [n for n in session.get("submitted", []) if n != number]
    session["submitted"] = [*numbers, number][-MAX_REMEMBERED_SUBMISSIONS:]


def filed_here(session: dict[str, Any], number: str) -> bool:
    submitted = session.get("submitted", [])
    return isinstance(submitted, list) and number in submitted
