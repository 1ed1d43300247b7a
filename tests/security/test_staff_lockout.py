"""Issue 13, point 5: no one can lock a chosen staff member out, and the throttle does not race.

The attack before: three wrong sign-ins on the admin's username, from anywhere, made the right
password and code answer 429 for the admin everywhere; and a burst of parallel wrong tries got
3-4 password checks through where the rules allowed one. Now the throttle counts per (username,
address group) and per address group, a username-wide rule moves only with a right password,
the ceiling over all addresses slows only strangers' addresses, and the checks are serialised.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar

from portal.settings import Settings
from portal.staff import sign_in as sign_in_module
from portal.staff.sign_in import (
    ADDRESS_FREE_FAILURES,
    CODE_FREE_FAILURES,
    FREE_FAILURES,
    MAX_DELAY,
    USERNAME_CEILING,
    Outcome,
    sign_in,
)
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from tests.security.figures import FIGURES
from tests.security.helpers import Browser, RunDb, browser_from
from tests.staff.helpers import Clock, Staff, default_office, make_staff, post_sign_in

STRANGER = "198.51.100.66"
ADMIN_HOME = "203.0.113.10"
WRONG = "Wrong-Pass-999"


@pytest.fixture
def admin(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "boss", role="admin")


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 password check sign-in makes, by the password tried."""
    seen: list[str] = []
    real = sign_in_module.verify_password

    def counted(password_hash: str | None, password: str) -> bool:
        seen.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(sign_in_module, "verify_password", counted)
    return seen


def at(app: Litestar, client: Browser, address: str) -> Browser:
    return browser_from(app, client, address)


def test_a_strangers_failures_do_not_lock_the_admin_out(
    app: Litestar, client: Browser, admin: Staff, clock: Clock, checks: list[str]
) -> None:
    stranger = at(app, client, STRANGER)
    answers = [post_sign_in(stranger, "boss", WRONG, "000000").status_code for _ in range(20)]
    assert answers == [422] * FREE_FAILURES + [429] * (20 - FREE_FAILURES)
    assert len(checks) == FREE_FAILURES  # throttled tries never reach argon2

    # The admin, at their own address, with the right password and code: in at once.
    home = at(app, client, ADMIN_HOME)
    signed_in = post_sign_in(home, "boss", admin.password, admin.next_code(clock))
    assert signed_in.status_code == 303, signed_in.text
    assert home.get("/staff", follow_redirects=False).status_code == 200

    # The stranger is still throttled, and their whole IPv6 /64 would be too.
    throttled = post_sign_in(stranger, "boss", WRONG, "000000")
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["retry-after"]) <= 6
    FIGURES.add("staff_lockout.stranger_failures_then_admin_signed_in", 20)


def test_an_ipv6_stranger_cannot_dodge_by_changing_address_within_the_64(
    app: Litestar, client: Browser, admin: Staff, clock: Clock
) -> None:
    answers = [
        post_sign_in(at(app, client, f"2001:db8:1:2::{n:x}"), "boss", WRONG, "000000").status_code
        for n in range(1, 6)
    ]
    assert answers == [422] * FREE_FAILURES + [429] * 2
    # Another /64 is another subscriber: the admin on their phone gets in.
    phone = at(app, client, "2001:db8:9:9::1")
    assert post_sign_in(phone, "boss", admin.password, admin.next_code(clock)).status_code == 303


def test_retry_after_is_honest_for_the_pair_and_the_address(
    app: Litestar, client: Browser, admin: Staff, clock: Clock
) -> None:
    stranger = at(app, client, STRANGER)
    for n in range(ADDRESS_FREE_FAILURES):
        assert post_sign_in(stranger, f"name-{n}", WRONG, "000000").status_code == 422
    # One address spraying many names is stopped, for every name (the admin's too).
    refused = post_sign_in(stranger, "boss", admin.password, admin.next_code(clock))
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    assert wait == 6
    clock.advance(wait - 2)
    assert post_sign_in(stranger, "other", WRONG, "000000").status_code == 429
    clock.advance(2)  # the wait it announced has passed: the next try is let through
    assert post_sign_in(stranger, "other", WRONG, "000000").status_code == 422
    # ... and the one after waits twice as long.
    doubled = post_sign_in(stranger, "other", WRONG, "000000")
    assert doubled.status_code == 429
    assert int(doubled.headers["retry-after"]) == 11


def test_a_distributed_guesser_past_the_ceiling_only_slows_strangers(
    app: Litestar, client: Browser, run_db: RunDb, admin: Staff, clock: Clock
) -> None:
    # The admin has signed in from home before: that address group is familiar.
    home = at(app, client, ADMIN_HOME)
    assert post_sign_in(home, "boss", admin.password, admin.next_code(clock)).status_code == 303
    clock.advance(60)

    async def botnet() -> None:
        """USERNAME_CEILING failures, one per address, as a botnet would leave them."""
        await StaffSignInAttempt.insert(
            *(
                StaffSignInAttempt(
                    office=DEFAULT_OFFICE_ID,
                    username="boss",
                    client_ip=f"10.{n // 250}.{n % 250}.1",
                    client_net=f"10.{n // 250}.{n % 250}.1",
                    succeeded=False,
                    created_at=clock.now - timedelta(minutes=5),
                )
                for n in range(USERNAME_CEILING)
            )
        )

    run_db(botnet)
    # A stranger's new address: one try, then a full 15 minutes.
    stranger = at(app, client, STRANGER)
    assert post_sign_in(stranger, "boss", WRONG, "000000").status_code == 422
    slowed = post_sign_in(stranger, "boss", WRONG, "000000")
    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) == int(MAX_DELAY.total_seconds()) + 1
    # The admin at home gets in at once, and so does the admin from a brand-new address.
    assert post_sign_in(home, "boss", admin.password, admin.next_code(clock)).status_code == 303
    hotel = at(app, client, "192.0.2.200")
    assert post_sign_in(hotel, "boss", admin.password, admin.next_code(clock)).status_code == 303


def test_with_a_leaked_password_codes_are_capped_for_the_username_without_an_oracle(
    app: Litestar, client: Browser, admin: Staff, clock: Clock
) -> None:
    """Refused codes after a right password count across addresses; at the cap every try on
    the username waits, the wrong password's answer is the same, so nothing is learnt."""
    for n in range(CODE_FREE_FAILURES):
        thief = at(app, client, f"198.51.100.{n}")
        answer = post_sign_in(thief, "boss", admin.password, admin.wrong_code(clock))
        assert answer.status_code == 422
    right = post_sign_in(at(app, client, "198.51.100.50"), "boss", admin.password, "123456")
    wrong = post_sign_in(at(app, client, "198.51.100.51"), "boss", WRONG, "123456")
    assert right.status_code == wrong.status_code == 429
    assert right.headers["retry-after"] == wrong.headers["retry-after"] == "6"


def _burst(app: Litestar, run_db: RunDb, settings: Settings, size: int) -> list[Outcome]:
    async def burst() -> list[Outcome]:
        results = await asyncio.gather(
            *(
                sign_in(
                    office=default_office(),
                    username="boss",
                    password=WRONG,
                    code="000000",
                    client_ip=STRANGER,
                    totp_key=settings.derive_key("staff-totp"),
                )
                for _ in range(size)
            )
        )
        return [result.outcome for result in results]

    outcomes: list[Outcome] = run_db(burst)
    return outcomes


def test_a_parallel_burst_gets_exactly_the_checks_the_rules_allow(
    app: Litestar,
    client: Browser,
    run_db: RunDb,
    settings: Settings,
    admin: Staff,
    clock: Clock,
    checks: list[str],
) -> None:
    outcomes = _burst(app, run_db, settings, 10)
    assert len(checks) == FREE_FAILURES
    assert sorted(outcomes) == sorted(
        [Outcome.refused] * FREE_FAILURES + [Outcome.throttled] * (10 - FREE_FAILURES)
    )
    # Once the 5 s wait has passed, a burst of 10 gets exactly one more check.
    clock.advance(6)
    checks.clear()
    outcomes = _burst(app, run_db, settings, 10)
    assert len(checks) == 1
    assert outcomes.count(Outcome.refused) == 1
    FIGURES.add("staff_lockout.parallel_burst_password_checks", len(checks))


def test_the_right_answer_from_the_strangers_own_address_still_waits(
    app: Litestar, client: Browser, admin: Staff, clock: Clock, checks: list[str]
) -> None:
    """The pair rule is checked before the password: at a throttled address even the right
    password is not checked (no oracle, no argon2 work)."""
    stranger = at(app, client, STRANGER)
    for _ in range(FREE_FAILURES):
        post_sign_in(stranger, "boss", WRONG, "000000")
    checks.clear()
    answer: Any = post_sign_in(stranger, "boss", admin.password, admin.next_code(clock))
    assert answer.status_code == 429
    assert checks == []
