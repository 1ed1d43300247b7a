from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from portal.kernel.offices import OfficeRef
from portal.otp.session_state import (
    MAX_REMEMBERED_SUBMISSIONS,
    PendingCode,
    browser_id,
    filed_here,
    keep_verified,
    last_verified_phone,
    mark_verified,
    pending_code,
    remember_submitted,
    set_pending_code,
    verified_challenge,
    verified_phone,
)
from portal.tables.office import DEFAULT_OFFICE_ID

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=30)
HERE = OfficeRef(id=DEFAULT_OFFICE_ID, slug="main", name="เทศบาลทดสอบ")
ELSEWHERE = OfficeRef(id=DEFAULT_OFFICE_ID + 1, slug="other", name="อบต.อื่น")


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
        office=HERE,
    )
    mark_verified(session, "submit", "+66800000001", NOW, office=HERE)
    assert browser_id(session) != before
    assert pending_code(session, "submit", office=HERE) is None
    assert verified_phone(session, "submit", NOW, WINDOW, office=HERE) == "+66800000001"


def test_pending_code_round_trips_and_survives_garbage() -> None:
    session: dict[str, Any] = {}
    code = PendingCode(7, "+66800000001", "general-request", NOW, NOW + timedelta(minutes=5))
    set_pending_code(session, "submit", code, office=HERE)
    assert pending_code(session, "submit", office=HERE) == code
    session["otp:submit"] = {"id": "not a number"}
    assert pending_code(session, "submit", office=HERE) is None
    session["otp:submit"] = "tampered"
    assert pending_code(session, "submit", office=HERE) is None


def test_verification_lapses_after_idle_window_and_slides_while_working() -> None:
    session: dict[str, Any] = {}
    mark_verified(session, "submit", "+66800000001", NOW, office=HERE)
    assert (
        verified_phone(session, "submit", NOW + WINDOW + timedelta(seconds=1), WINDOW, office=HERE)
        is None
    )
    keep_verified(session, "submit", NOW + timedelta(minutes=20))
    assert (
        verified_phone(session, "submit", NOW + timedelta(minutes=45), WINDOW, office=HERE)
        == "+66800000001"
    )


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
    mark_verified(session, "submit", "+66800000001", NOW, 42, office=HERE)
    assert verified_challenge(session, "submit", office=HERE) == 42
    mark_verified(session, "track", "+66800000001", NOW, office=HERE)
    assert verified_challenge(session, "track", office=HERE) is None
    session["verified:submit"]["challenge"] = "42"  # not what this code writes: ignored
    assert verified_challenge(session, "submit", office=HERE) is None


def test_verification_for_one_purpose_does_not_count_for_the_other() -> None:
    session: dict[str, Any] = {}
    mark_verified(session, "submit", "+66800000001", NOW, office=HERE)
    assert verified_phone(session, "track", NOW, WINDOW, office=HERE) is None
    mark_verified(session, "track", "+66800000001", NOW, office=HERE)
    assert verified_phone(session, "track", NOW, WINDOW, office=HERE) == "+66800000001"


def test_a_phone_verified_at_one_office_is_not_verified_at_another() -> None:
    """One cookie, two offices on one host (``/o/<slug>/``): the check stays where it passed."""
    session: dict[str, Any] = {}
    mark_verified(session, "submit", "+66800000001", NOW, 42, office=HERE)
    assert verified_phone(session, "submit", NOW, WINDOW, office=HERE) == "+66800000001"
    assert verified_phone(session, "submit", NOW, WINDOW, office=ELSEWHERE) is None
    assert verified_challenge(session, "submit", office=ELSEWHERE) is None
    assert last_verified_phone(session, "submit", office=ELSEWHERE) is None
    assert last_verified_phone(session, "submit", office=HERE) == "+66800000001"


def test_a_code_pending_at_one_office_is_not_pending_at_another() -> None:
    session: dict[str, Any] = {}
    code = PendingCode(7, "+66800000001", "general-request", NOW, NOW + timedelta(minutes=5))
    set_pending_code(session, "submit", code, office=ELSEWHERE)
    assert pending_code(session, "submit", office=HERE) is None
    assert pending_code(session, "submit", office=ELSEWHERE) == code


def test_an_entry_from_before_offices_belongs_to_the_default_office() -> None:
    session: dict[str, Any] = {
        "verified:submit": {"phone": "+66800000001", "at": NOW.timestamp(), "challenge": 9}
    }
    assert verified_phone(session, "submit", NOW, WINDOW, office=HERE) == "+66800000001"
    assert verified_phone(session, "submit", NOW, WINDOW, office=ELSEWHERE) is None
