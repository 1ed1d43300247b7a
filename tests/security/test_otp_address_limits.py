"""Per-address OTP limits count addresses the way carriers hand them out (issue 13, point 3).

Thai carriers put many phones behind one IPv4 address (CGNAT), so a busy address must keep
serving new citizens; one machine asking codes for a list of numbers must still be stopped,
and an IPv6 client cannot escape by rotating through the addresses of its /64.

The rule (``OtpPolicy``): an address group may ask codes for at most ``phones_per_ip_hour``
(60) distinct phones an hour, and at most ``sends_per_ip_hour`` (300) codes an hour in all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar

from portal.otp.policy import OtpPolicy
from portal.tables.otp_challenge import OtpChallenge
from tests.citizen.helpers import enter_code, latest_code, send_code
from tests.conftest import csrf_token, html
from tests.security.helpers import Browser, RunDb, browser_from, phone

DEFAULT = OtpPolicy()
CARRIER_ADDRESS = "203.0.113.7"


def _summary(response: Any) -> str:
    summary = html(response).select_one(".error-summary")
    assert summary is not None, response.text
    return str(summary.get_text(" ", strip=True))


def _backdate(run_db: RunDb, by: timedelta) -> None:
    async def shift() -> None:
        for row in await OtpChallenge.select(OtpChallenge.id, OtpChallenge.created_at):
            await OtpChallenge.update({OtpChallenge.created_at: row["created_at"] - by}).where(
                OtpChallenge.id == row["id"]
            )

    run_db(shift)


def test_a_new_phone_behind_a_busy_carrier_address_still_gets_its_code(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    """Fifty citizens behind one carrier address asked for codes this hour (today the tenth
    locked the address out); the fifty-first, a brand-new phone, gets its code and gets in,
    and so does a tracking lookup from the same address."""
    for n in range(50):
        citizen = browser_from(app, client, CARRIER_ADDRESS)
        assert send_code(citizen, phone(n + 1)[0]).status_code == 303
    newcomer = browser_from(app, client, CARRIER_ADDRESS)
    national, e164 = phone(500)
    assert send_code(newcomer, national).status_code == 303
    assert enter_code(newcomer, latest_code(run_db, e164)).status_code == 303
    tracker = browser_from(app, client, CARRIER_ADDRESS)
    token = csrf_token(tracker, "/track")
    tracked = tracker.post(
        "/track", data={"phone": phone(501)[0], "_csrf_token": token}, follow_redirects=False
    )
    assert tracked.status_code == 303
    nets = run_db(lambda: OtpChallenge.select(OtpChallenge.client_net).distinct())
    assert [row["client_net"] for row in nets] == [CARRIER_ADDRESS]


def test_one_address_spraying_phones_is_stopped_with_an_honest_wait(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    """A bot walks a list of numbers from one IPv4 address, a fresh browser each time."""
    limit = DEFAULT.phones_per_ip_hour
    answers = [
        send_code(browser_from(app, client, CARRIER_ADDRESS), phone(n)[0]).status_code
        for n in range(limit)
    ]
    assert answers == [303] * limit
    # The first codes were asked 20 minutes ago: the first slot frees up 40 minutes from now.
    _backdate(run_db, timedelta(minutes=20))
    for n in range(limit, limit + 5):
        refused = send_code(browser_from(app, client, CARRIER_ADDRESS), phone(n)[0])
        assert refused.status_code == 429
        assert 39 * 60 <= int(refused.headers["retry-after"]) <= 40 * 60
        assert "บ่อยเกินไป" in _summary(refused)
    assert run_db(lambda: OtpChallenge.count()) == limit
    # Elsewhere nobody is held back.
    assert send_code(browser_from(app, client, "198.51.100.20"), phone(900)[0]).status_code == 303


def test_an_ipv6_client_rotating_through_its_64_counts_as_one_address(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    """Every code from a different address of one /64 (an IPv6 subscriber picks any): still
    one address, stopped at the same number of phones; the next /64 is someone else."""
    limit = DEFAULT.phones_per_ip_hour
    answers = [
        send_code(browser_from(app, client, f"2001:db8:1:2::{n + 1:x}"), phone(n)[0]).status_code
        for n in range(limit + 3)
    ]
    assert answers == [303] * limit + [429] * 3
    nets = run_db(lambda: OtpChallenge.select(OtpChallenge.client_net).distinct())
    assert [row["client_net"] for row in nets] == ["2001:db8:1:2::/64"]
    neighbour = browser_from(app, client, "2001:db8:1:3::1")
    assert send_code(neighbour, phone(900)[0]).status_code == 303


def test_a_phone_already_served_from_the_address_can_ask_again_at_the_limit(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    """The distinct-phone limit stops new numbers only: a citizen of this address whose SMS
    was slow asks for a new code and gets it (only the per-address ceiling would stop it)."""
    first = browser_from(app, client, CARRIER_ADDRESS)
    assert send_code(first, phone(0)[0]).status_code == 303
    for n in range(1, DEFAULT.phones_per_ip_hour):
        assert send_code(browser_from(app, client, CARRIER_ADDRESS), phone(n)[0]).status_code == 303
    assert send_code(browser_from(app, client, CARRIER_ADDRESS), phone(999)[0]).status_code == 429
    _backdate(run_db, DEFAULT.resend_after + timedelta(seconds=1))
    token = csrf_token(first, "/e-service/general-request/verify")
    resent = first.post(
        "/e-service/general-request/resend", data={"_csrf_token": token}, follow_redirects=False
    )
    assert resent.status_code == 303
    assert enter_code(first, latest_code(run_db, phone(0)[1])).status_code == 303
