"""The staff part of the signed cookie session: who, since when, last seen.

Signing in replaces the whole session (rotation: nothing from before sign-in, citizen state
included, survives), 30 minutes idle or 12 hours in all end it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

IDLE_LIMIT = timedelta(minutes=30)
MAX_AGE = timedelta(hours=12)


@dataclass(frozen=True)
class StaffSession:
    staff_id: int
    role: str
    version: int
    """The account's session_version when signed in; the guard refuses an older one."""


def start(session: dict[str, Any], staff_id: int, role: str, version: int, now: datetime) -> None:
    session.clear()
    session["staff"] = {
        "id": staff_id,
        "role": role,
        "version": version,
        "since": now.timestamp(),
        "seen": now.timestamp(),
    }


def current(session: dict[str, Any], now: datetime) -> StaffSession | None:
    """The signed-in staff member, sliding the idle window; None once either limit passed."""
    data = session.get("staff")
    if not isinstance(data, dict):
        return None
    try:
        since, seen = float(data["since"]), float(data["seen"])
        staff = StaffSession(
            staff_id=int(data["id"]), role=str(data["role"]), version=int(data.get("version", -1))
        )
    except (KeyError, TypeError, ValueError):
        return None
    stamp = now.timestamp()
    if stamp - seen > IDLE_LIMIT.total_seconds() or stamp - since > MAX_AGE.total_seconds():
        session.pop("staff", None)
        return None
    data["seen"] = stamp
    session["staff"] = dict(data)
    return staff


def end(session: dict[str, Any]) -> None:
    session.clear()
