"""Tracking at one office never reaches another's requests (issue 16): office B's SMS link,
request number and file at office A answer exactly like ones that do not exist, way 2 at A
lists only A's requests for a phone that filed at both, and the "nothing filed" notice gives
the office's own phone.

A is the default office on ``A_HOST``, B a second office on ``B_HOST``
(``tests/security/cross_office.py`` builds both the way a person would).
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import utcnow
from portal.kernel.tracking_links import new_tracking_token, token_digest
from portal.tables.citizen_request import CitizenRequest
from portal.tables.moved_token import MovedToken
from portal.tables.office import DEFAULT_OFFICE_ID
from tests.conftest import RunDb, html
from tests.security.cross_office import (
    A_FIRST_NAME,
    A_HOST,
    B_HOST,
    B_OFFICE_PHONE,
    browser_at,
    file_general,
    file_with_photo,
    make_offices,
    track_verify_at,
)

Browser = TestClient[Litestar]


def _token(run_db: RunDb, office_id: int, number: str) -> str:
    row = run_db(
        lambda: (
            CitizenRequest.select(CitizenRequest.tracking_token)
            .where((CitizenRequest.number == number) & (CitizenRequest.office == office_id))
            .first()
        )
    )
    assert row is not None
    return str(row["tracking_token"])


def _not_found(response: Any) -> str:
    """The 404 page's heading (what a missing thing gets), asserting the status."""
    assert response.status_code == 404, response.text[:300]
    heading = html(response).select_one("h1")
    assert heading is not None
    return heading.get_text(strip=True)


def _world(client: Browser, run_db: RunDb) -> dict[str, Any]:
    """B's citizen files a complaint with a photo at B; the same phone files at A."""
    app = client.app
    _, b = make_offices(app, run_db)
    at_b = browser_at(app, client, B_HOST)
    b_number, b_file = file_with_photo(at_b, run_db, b.id)
    at_a = browser_at(app, client, A_HOST)
    a_number = file_general(at_a, run_db, DEFAULT_OFFICE_ID, A_FIRST_NAME)
    return {
        "b": b,
        "at_a": at_a,
        "at_b": at_b,
        "a_number": a_number,
        "b_number": b_number,
        "b_file": b_file,
        "b_token": _token(run_db, b.id, b_number),
    }


def test_b_s_sms_link_at_a_is_a_404_like_an_unknown_link(client: Browser, run_db: RunDb) -> None:
    world = _world(client, run_db)
    stranger_a = browser_at(client.app, client, A_HOST)
    unknown = _not_found(stranger_a.get(f"/t/{new_tracking_token()}"))
    assert _not_found(stranger_a.get(f"/t/{world['b_token']}")) == unknown
    # At its own office the same link works.
    stranger_b = browser_at(client.app, client, B_HOST)
    shown = stranger_b.get(f"/t/{world['b_token']}")
    assert shown.status_code == 200
    number = html(shown).select_one("[data-request-number]")
    assert number is not None and number.get_text(strip=True) == world["b_number"]


def test_a_moved_link_of_b_is_moved_only_at_b(client: Browser, run_db: RunDb) -> None:
    world = _world(client, run_db)
    old_token = new_tracking_token()
    b_id = world["b"].id

    async def moved() -> None:
        row = await CitizenRequest.select(CitizenRequest.id).where(
            (CitizenRequest.number == world["b_number"]) & (CitizenRequest.office == b_id)
        )
        await MovedToken(
            office=b_id, token_hash=token_digest(old_token), request=row[0]["id"], moved_at=utcnow()
        ).save()

    run_db(moved)
    at_a = browser_at(client.app, client, A_HOST)
    unknown = _not_found(at_a.get(f"/t/{new_tracking_token()}"))
    assert _not_found(at_a.get(f"/t/{old_token}")) == unknown
    at_b = browser_at(client.app, client, B_HOST)
    assert at_b.get(f"/t/{old_token}").status_code == 410


def test_way_2_at_a_lists_only_a_s_request_for_a_phone_that_filed_at_both(
    client: Browser, run_db: RunDb
) -> None:
    world = _world(client, run_db)
    at_a = browser_at(client.app, client, A_HOST)
    track_verify_at(at_a, run_db, DEFAULT_OFFICE_ID)
    listed = html(at_a.get("/track/requests"))
    numbers = [n.get_text(strip=True) for n in listed.select("[data-request-number]")]
    assert numbers == [world["a_number"]]
    # B's number and B's file, asked for at A by the phone that filed them: missing.
    unknown_number = _not_found(at_a.get("/track/requests/69-999999"))
    assert _not_found(at_a.get(f"/track/requests/{world['b_number']}")) == unknown_number
    unused_id = world["b_file"] + 100_000
    unknown_file = _not_found(at_a.get(f"/track/attachments/{unused_id}/full"))
    assert _not_found(at_a.get(f"/track/attachments/{world['b_file']}/full")) == unknown_file
    # Way 2 at B shows B's request and its file to the same phone.
    at_b = browser_at(client.app, client, B_HOST)
    track_verify_at(at_b, run_db, world["b"].id)
    listed_b = html(at_b.get("/track/requests"))
    numbers_b = [n.get_text(strip=True) for n in listed_b.select("[data-request-number]")]
    assert numbers_b == [world["b_number"]]
    assert at_b.get(f"/track/requests/{world['b_number']}").status_code == 200
    assert at_b.get(f"/track/attachments/{world['b_file']}/full").status_code == 200


def test_the_nothing_filed_notice_gives_the_office_s_own_phone(
    client: Browser, run_db: RunDb
) -> None:
    _, b = make_offices(client.app, run_db)
    at_b = browser_at(client.app, client, B_HOST)
    track_verify_at(at_b, run_db, b.id)
    page = html(at_b.get("/track/requests"))
    assert page.select_one("[data-no-requests]") is not None
    link = page.select_one("a[data-office-phone]")
    assert link is not None
    assert link.get_text(strip=True) == B_OFFICE_PHONE[0]
    assert link["href"] == f"tel:{b.dial}"
