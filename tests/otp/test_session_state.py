from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from portal.otp.session_state import (
    MAX_REMEMBERED_SUBMISSIONS,
    PendingCode,
    browser_id,
    filed_here,
    keep_verified,
    mark_verified,
    pending_code,
    remember_submitted,
    set_pending_code,
    verified_challenge,
    verified_phone,
)

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=30)


def test_browser_id_is_created_once_and_kept() -> None:
    session: dict[str, Any] = {}
    first = browser_id(session)
    assert len(first) >= 32
    assert browser_id(session) == first


def test_passing_a_code_replaces_the_browser_id_and_forgets_the_code() -> None:
    session: dict[str, Any] = {}
    before = browser_id(session)
    set_pending_code(
        session,
        "submit",
        PendingCode(7, "+66800000001", "general-request", NOW, NOW + timedelta(minutes=5)),
    )
    mark_verified(session, "submit", "+66800000001", NOW)
    assert browser_id(session) != before
    assert pending_code(session, "submit") is None
    assert verified_phone(session, "submit", NOW, WINDOW) == "+66800000001"


def test_pending_code_round_trips_and_survives_garbage() -> None:
    session: dict[str, Any] = {}
    code = PendingCode(7, "+66800000001", "general-request", NOW, NOW + timedelta(minutes=5))
    set_pending_code(session, "submit", code)
    assert pending_code(session, "submit") == code
    session["otp:submit"] = {"id": "not a number"}
    assert pending_code(session, "submit") is None
    session["otp:submit"] = "tampered"
    assert pending_code(session, "submit") is None


def test_verification_lapses_after_idle_window_and_slides_while_working() -> None:
    session: dict[str, Any] = {}
    mark_verified(session, "submit", "+66800000001", NOW)
    assert verified_phone(session, "submit", NOW + WINDOW + timedelta(seconds=1), WINDOW) is None
    keep_verified(session, "submit", NOW + timedelta(minutes=20))
    assert verified_phone(session, "submit", NOW + timedelta(minutes=45), WINDOW) == "+66800000001"


def test_only_the_last_submissions_are_remembered() -> None:
    session: dict[str, Any] = {}
    for n in range(MAX_REMEMBERED_SUBMISSIONS + 2):
        remember_submitted(session, f"69-{n:06d}", f"token-{n}")
    assert not filed_here(session, "69-000000", "token-0")
    last = MAX_REMEMBERED_SUBMISSIONS + 1
    assert filed_here(session, f"69-{last:06d}", f"token-{last}")
    assert len(session["submitted"]) == MAX_REMEMBERED_SUBMISSIONS


def test_a_submission_is_shown_only_while_its_tracking_link_stands() -> None:
    """Staff moved the request to a new phone (a new link): the filing browser loses it."""
    session: dict[str, Any] = {}
    remember_submitted(session, "69-000001", "first-token")
    assert filed_here(session, "69-000001", "first-token")
    assert not filed_here(session, "69-000001", "rotated-token")
    assert "first-token" not in str(session)  # only a fingerprint rides in the cookie


def test_the_passed_code_is_remembered_as_the_verification() -> None:
    session: dict[str, Any] = {}
    mark_verified(session, "submit", "+66800000001", NOW, 42)
    assert verified_challenge(session, "submit") == 42
    mark_verified(session, "track", "+66800000001", NOW)
    assert verified_challenge(session, "track") is None
    session["verified:submit"]["challenge"] = "42"  # not what this code writes: ignored
    assert verified_challenge(session, "submit") is None


def test_verification_for_one_purpose_does_not_count_for_the_other() -> None:
    session: dict[str, Any] = {}
    mark_verified(session, "submit", "+66800000001", NOW)
    assert verified_phone(session, "track", NOW, WINDOW) is None
    mark_verified(session, "track", "+66800000001", NOW)
    assert verified_phone(session, "track", NOW, WINDOW) == "+66800000001"
