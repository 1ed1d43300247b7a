"""Staff sign-in as a service: password and code together, one use per code, throttled alike
for known and unknown names, every success audited."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from portal.settings import Settings
from portal.staff.sign_in import (
    ADDRESS_FREE_FAILURES,
    BASE_DELAY,
    CODE_REFUSED,
    FREE_FAILURES,
    MAX_DELAY,
    Outcome,
    SignInResult,
    delay_after,
    sign_in,
)
from portal.tables.audit_event import AuditEvent
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from portal.tables.staff_user import StaffUser
from tests.conftest import fresh
from tests.staff.helpers import Clock, Staff, default_office, make_staff

IP = "203.0.113.7"
OFFICE = default_office()


@pytest.fixture
def totp_key(settings: Settings) -> bytes:
    return settings.derive_key("staff-totp")


@pytest.fixture
def officer(settings: Settings) -> Staff:
    return make_staff(fresh, settings, "somchai")


def attempt(totp_key: bytes, username: str, password: str, code: str, ip: str = IP) -> SignInResult:
    return fresh(
        lambda: sign_in(
            office=OFFICE,
            username=username,
            password=password,
            code=code,
            client_ip=ip,
            totp_key=totp_key,
        )
    )


def attempts() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = fresh(
        lambda: StaffSignInAttempt.select().order_by(StaffSignInAttempt.id)
    )
    return rows


def audit() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = fresh(lambda: AuditEvent.select().order_by(AuditEvent.id))
    return rows


def user(staff: Staff) -> dict[str, Any]:
    row: dict[str, Any] = fresh(lambda: StaffUser.select().where(StaffUser.id == staff.id).first())
    return row


def test_right_password_and_code_sign_in_and_are_recorded(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    result = attempt(totp_key, "somchai", officer.password, officer.next_code(clock))
    assert (result.outcome, result.staff_id, result.role) == (
        Outcome.signed_in,
        officer.id,
        "officer",
    )
    assert result.session_version == user(officer)["session_version"]
    assert [
        (a["username"], a["client_ip"], a["client_net"], a["succeeded"]) for a in attempts()
    ] == [("somchai", IP, IP, True)]
    (row,) = [a for a in audit() if a["action"] == "sign_in"]
    assert (row["actor"], row["client_ip"], row["request"]) == ("somchai", IP, None)
    assert user(officer)["last_sign_in_at"] == clock.now


def test_username_is_case_and_space_insensitive(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    result = attempt(totp_key, "  SomChai ", officer.password, officer.next_code(clock))
    assert result.outcome is Outcome.signed_in


@pytest.mark.parametrize("case", ["wrong_password", "wrong_code", "unknown_user", "no_code"])
def test_each_kind_of_wrong_is_the_same_refusal(
    totp_key: bytes, officer: Staff, clock: Clock, case: str
) -> None:
    enrolled_at = user(officer)["last_sign_in_at"]  # enrolling through the link signs in
    code = officer.next_code(clock)
    wrong_code = officer.wrong_code(clock)
    username, password, typed = {
        "wrong_password": ("somchai", "Wrong-Pass-999", code),
        "wrong_code": ("somchai", officer.password, wrong_code),
        "unknown_user": ("nobody", officer.password, code),
        "no_code": ("somchai", officer.password, ""),
    }[case]
    assert attempt(totp_key, username, password, typed) == SignInResult(Outcome.refused)
    assert [(a["username"], a["succeeded"]) for a in attempts()] == [(username, False)]
    assert [a for a in audit() if a["action"] == "sign_in"] == []
    # A right password with a wrong code is audited: it may mean the password has leaked.
    refused_codes = [a["actor"] for a in audit() if a["action"] == CODE_REFUSED]
    assert refused_codes == (["somchai"] if case in ("wrong_code", "no_code") else [])
    assert user(officer)["last_sign_in_at"] == enrolled_at


def test_a_deactivated_account_is_refused_like_a_wrong_password(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    fresh(lambda: StaffUser.update({StaffUser.active: False}).where(StaffUser.id == officer.id))
    result = attempt(totp_key, "somchai", officer.password, officer.next_code(clock))
    assert result == SignInResult(Outcome.refused)


def test_the_same_code_twice_is_refused_the_second_time(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    code = officer.next_code(clock)
    assert attempt(totp_key, "somchai", officer.password, code).outcome is Outcome.signed_in
    assert attempt(totp_key, "somchai", officer.password, code).outcome is Outcome.refused
    assert user(officer)["totp_last_step"] == officer.last_step


def test_an_older_code_after_a_newer_one_is_refused(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    newer = officer.code_at_step(clock.step + 1)
    older = officer.code_at_step(clock.step - 1)
    assert newer != older
    assert attempt(totp_key, "somchai", officer.password, newer).outcome is Outcome.signed_in
    assert attempt(totp_key, "somchai", officer.password, older).outcome is Outcome.refused


def test_a_code_two_steps_away_is_refused(totp_key: bytes, officer: Staff, clock: Clock) -> None:
    far = officer.code_at_step(clock.step + 2)
    near = {officer.code_at_step(clock.step + d) for d in (-1, 0, 1)}
    if far in near:
        pytest.skip("code collides with an accepted step")
    assert attempt(totp_key, "somchai", officer.password, far).outcome is Outcome.refused


def test_an_account_whose_link_is_unused_cannot_sign_in(
    totp_key: bytes, settings: Settings, clock: Clock
) -> None:
    """Until its owner opens the link it has no password: nothing, not even an empty
    password or the dummy hash's own text, signs in, and the answer is the plain refusal."""
    newcomer = make_staff(fresh, settings, "malee", enrolled=False, role="admin")
    for password in (newcomer.password, "", "not-a-real-password-only-for-equal-timing"):
        clock.advance(120)
        result = attempt(totp_key, "malee", password, newcomer.next_code(clock))
        assert result == SignInResult(Outcome.refused)
    assert user(newcomer)["password_hash"] == ""
    assert [a["action"] for a in audit()] == ["staff_created"]


def test_delays_grow_after_the_free_failures_up_to_the_cap() -> None:
    assert FREE_FAILURES == 3
    assert [delay_after(n) for n in range(3)] == [timedelta(0)] * 3
    assert delay_after(3) == BASE_DELAY == timedelta(seconds=5)
    assert delay_after(4) == timedelta(seconds=10)
    assert delay_after(5) == timedelta(seconds=20)
    assert delay_after(12) == MAX_DELAY == timedelta(minutes=15)
    assert delay_after(10_000) == MAX_DELAY


@pytest.mark.parametrize("username", ["somchai", "nobody"])
def test_after_three_failures_from_one_address_even_the_right_answer_there_must_wait(
    totp_key: bytes, officer: Staff, clock: Clock, username: str
) -> None:
    for _ in range(FREE_FAILURES):
        result = attempt(totp_key, username, "Wrong-Pass-999", "000000")
        assert result.outcome is Outcome.refused
    code = officer.next_code(clock)
    result = attempt(totp_key, username, officer.password, code)
    assert result == SignInResult(Outcome.throttled, retry_after=6)
    assert len(attempts()) == 3  # the throttled try is not even checked


def test_failures_from_other_addresses_do_not_slow_the_right_answer(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    for n in range(12):
        result = attempt(totp_key, "somchai", "Wrong-Pass-999", "000000", ip=f"198.51.100.{n}")
        assert result.outcome is Outcome.refused
    result = attempt(totp_key, "somchai", officer.password, officer.next_code(clock))
    assert result.outcome is Outcome.signed_in


def test_known_and_unknown_usernames_are_throttled_alike(totp_key: bytes, officer: Staff) -> None:
    results = {}
    for username in ("somchai", "nobody"):
        ip = f"192.0.2.{len(username)}"
        for _ in range(3):
            attempt(totp_key, username, "Wrong-Pass-999", "000000", ip=ip)
        results[username] = attempt(totp_key, username, "x", "000000", ip=ip)
    assert results["somchai"] == results["nobody"]
    assert results["somchai"].outcome is Outcome.throttled


def test_one_address_trying_many_names_is_throttled(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    for n in range(ADDRESS_FREE_FAILURES):
        outcome = attempt(totp_key, f"name-{n}", "Wrong-Pass-999", "000000").outcome
        assert outcome is Outcome.refused
    result = attempt(totp_key, "somchai", officer.password, officer.next_code(clock))
    assert result == SignInResult(Outcome.throttled, retry_after=6)


def test_after_the_wait_the_right_answer_works_and_clears_the_count(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    for _ in range(3):
        attempt(totp_key, "somchai", "Wrong-Pass-999", "000000")
    clock.advance(6)
    assert attempt(totp_key, "somchai", officer.password, officer.next_code(clock)).outcome is (
        Outcome.signed_in
    )
    # Counting starts again after a success: one more failure costs no wait.
    assert attempt(totp_key, "somchai", "Wrong-Pass-999", "000000").outcome is Outcome.refused
    assert attempt(totp_key, "somchai", officer.password, officer.next_code(clock)).outcome is (
        Outcome.signed_in
    )


def test_each_further_failure_doubles_the_wait(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    for _ in range(3):
        attempt(totp_key, "somchai", "Wrong-Pass-999", "000000")
    clock.advance(5)
    assert attempt(totp_key, "somchai", "Wrong-Pass-999", "000000").outcome is Outcome.refused
    result = attempt(totp_key, "somchai", officer.password, officer.next_code(clock))
    assert result == SignInResult(Outcome.throttled, retry_after=11)
    clock.advance(9)
    assert attempt(totp_key, "somchai", "x", "000000").retry_after == 2


def test_failures_older_than_the_window_are_forgotten(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    for _ in range(5):
        clock.advance(60)
        attempt(totp_key, "somchai", "Wrong-Pass-999", "000000")
    clock.advance(31 * 60)
    result = attempt(totp_key, "somchai", officer.password, officer.next_code(clock))
    assert result.outcome is Outcome.signed_in


def test_the_same_code_sent_five_times_at_once_signs_in_once(
    totp_key: bytes, officer: Staff, clock: Clock
) -> None:
    code = officer.next_code(clock)

    async def race() -> list[SignInResult]:
        return list(
            await asyncio.gather(
                *(
                    sign_in(
                        office=OFFICE,
                        username="somchai",
                        password=officer.password,
                        code=code,
                        client_ip=f"198.51.100.{n}",
                        totp_key=totp_key,
                    )
                    for n in range(5)
                )
            )
        )

    outcomes = sorted(result.outcome for result in fresh(race()))
    assert outcomes.count(Outcome.signed_in) == 1
    assert set(outcomes) <= {Outcome.signed_in, Outcome.refused, Outcome.throttled}
    assert len([a for a in audit() if a["action"] == "sign_in"]) == 1
