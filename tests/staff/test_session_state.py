"""The staff part of the session, with explicit times: rotation at sign-in, 30 minutes idle,
12 hours in all, sign-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.staff.session_state import (
    IDLE_LIMIT,
    MAX_AGE,
    StaffSession,
    current,
    end,
    start,
)

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def signed_in_session() -> dict[str, Any]:
    session: dict[str, Any] = {}
    start(session, 7, "officer", 0, T0)
    return session


def test_limits_are_the_issues() -> None:
    assert timedelta(minutes=30) == IDLE_LIMIT
    assert timedelta(hours=12) == MAX_AGE


def test_start_replaces_everything_that_was_in_the_session() -> None:
    session: dict[str, Any] = {
        "browser": "citizen-browser-id",
        "verified:submit": {"phone": "+66800000300", "at": 1.0},
        "otp:track": {"id": 1},
        "staff_enrol": {"id": 7, "since": T0.timestamp()},
    }
    start(session, 7, "officer", 0, T0)
    assert list(session) == ["staff"]
    assert current(session, T0) == StaffSession(staff_id=7, role="officer", version=0)


def test_fresh_session_is_signed_in() -> None:
    assert current(signed_in_session(), T0 + timedelta(seconds=1)) == StaffSession(7, "officer", 0)


def test_just_under_30_minutes_idle_is_still_signed_in() -> None:
    session = signed_in_session()
    assert current(session, T0 + IDLE_LIMIT - timedelta(seconds=1)) is not None


def test_more_than_30_minutes_idle_ends_it_and_forgets_the_staff_member() -> None:
    session = signed_in_session()
    assert current(session, T0 + IDLE_LIMIT + timedelta(seconds=1)) is None
    assert "staff" not in session
    # Coming back at once does not revive it.
    assert current(session, T0) is None


def test_each_use_slides_the_idle_window() -> None:
    session = signed_in_session()
    moment = T0
    for _ in range(5):
        moment += timedelta(minutes=25)
        assert current(session, moment) is not None
    assert moment - T0 > IDLE_LIMIT
    assert session["staff"]["seen"] == moment.timestamp()


def test_twelve_hours_end_it_however_busy() -> None:
    session = signed_in_session()
    moment = T0
    while moment + timedelta(minutes=20) < T0 + MAX_AGE:
        moment += timedelta(minutes=20)
        assert current(session, moment) is not None, moment - T0
    assert current(session, T0 + MAX_AGE - timedelta(seconds=1)) is not None
    assert current(session, T0 + MAX_AGE + timedelta(seconds=1)) is None
    assert "staff" not in session


@pytest.mark.parametrize(
    "staff",
    [
        None,
        "admin",
        {"id": 7, "role": "admin"},
        {"id": "seven", "role": "admin", "since": 0, "seen": 0},
        {"id": 7, "role": "admin", "since": "x", "seen": "y"},
    ],
)
def test_malformed_staff_data_is_no_session(staff: Any) -> None:
    assert current({"staff": staff}, T0) is None


def test_a_citizen_session_is_no_staff_session() -> None:
    citizen = {"browser": "x", "verified:submit": {"phone": "+66800000300"}}
    assert current(citizen, T0) is None


def test_end_forgets_everything() -> None:
    session = signed_in_session()
    session["other"] = 1
    end(session)
    assert session == {}
    assert current(session, T0) is None
