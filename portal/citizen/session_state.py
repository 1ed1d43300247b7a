"""What the citizen's signed cookie session holds, and for how long.

Plain functions over the session mapping, so the rules are testable without a web stack:
- ``browser``: a random id the OTP codes are bound to; replaced when a code passes, so a
  session id planted before sign-in (fixation) is worthless afterwards.
- ``otp``: the code being waited for (challenge id, phone, when a resend is allowed).
- ``verified``: the phone that passed, and when.
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
    service_slug: str
    resend_at: datetime


def browser_id(session: dict[str, Any]) -> str:
    if not session.get("browser"):
        session["browser"] = secrets.token_urlsafe(24)
    return str(session["browser"])


def set_pending_code(session: dict[str, Any], code: PendingCode) -> None:
    session["otp"] = {
        "id": code.challenge_id,
        "phone": code.phone,
        "service": code.service_slug,
        "resend_at": code.resend_at.timestamp(),
    }


def pending_code(session: dict[str, Any]) -> PendingCode | None:
    data = session.get("otp")
    if not isinstance(data, dict):
        return None
    try:
        return PendingCode(
            challenge_id=int(data["id"]),
            phone=str(data["phone"]),
            service_slug=str(data["service"]),
            resend_at=datetime.fromtimestamp(float(data["resend_at"]), UTC),
        )
    except (KeyError, TypeError, ValueError):
        return None


def mark_verified(session: dict[str, Any], phone: str, now: datetime) -> None:
    session.pop("otp", None)
    session["browser"] = secrets.token_urlsafe(24)
    session["verified"] = {"phone": phone, "at": now.timestamp()}


def verified_phone(session: dict[str, Any], now: datetime, valid_for: timedelta) -> str | None:
    data = session.get("verified")
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


def keep_verified(session: dict[str, Any], now: datetime) -> None:
    """Slide the window while the citizen works on a form: idle time counts, typing does not."""
    data = session.get("verified")
    if isinstance(data, dict):
        session["verified"] = {**data, "at": now.timestamp()}


def remember_submitted(session: dict[str, Any], number: str) -> None:
    numbers = [n for n in session.get("submitted", []) if n != number]
    session["submitted"] = [*numbers, number][-MAX_REMEMBERED_SUBMISSIONS:]


def filed_here(session: dict[str, Any], number: str) -> bool:
    return number in session.get("submitted", [])
