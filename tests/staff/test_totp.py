"""Authenticator codes: the current step and one either side, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest

from portal.staff.totp import ISSUER, matching_step, new_secret, provisioning_uri

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 26, 7, 0, 15, tzinfo=UTC)  # the middle of a 30 s step
STEP = int(NOW.timestamp()) // 30


def code_for(step: int) -> str:
    return pyotp.TOTP(SECRET).generate_otp(step)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_current_step_and_one_either_side_are_accepted(offset: int) -> None:
    assert matching_step(SECRET, code_for(STEP + offset), NOW) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3, 100])
def test_steps_further_away_are_refused(offset: int) -> None:
    code = code_for(STEP + offset)
    # A code that happens to equal a nearby one would be accepted for that step; skip those.
    if code in {code_for(STEP + near) for near in (-1, 0, 1)}:
        pytest.skip("code collides with an accepted step")
    assert matching_step(SECRET, code, NOW) is None


def test_codes_made_by_an_authenticator_app_at_the_time_match() -> None:
    totp = pyotp.TOTP(SECRET)
    assert matching_step(SECRET, totp.at(NOW), NOW) == STEP
    assert matching_step(SECRET, totp.at(NOW - timedelta(seconds=30)), NOW) == STEP - 1
    assert matching_step(SECRET, totp.at(NOW + timedelta(seconds=30)), NOW) == STEP + 1
    assert matching_step(SECRET, totp.at(NOW - timedelta(seconds=60)), NOW) is None


def test_spaces_around_and_inside_the_code_are_forgiven() -> None:
    code = code_for(STEP)
    assert matching_step(SECRET, f" {code[:3]} {code[3:]} ", NOW) == STEP


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "12345a", "๑๒๓๔๕๖", "１２３４５６"])
def test_malformed_codes_are_refused(bad: str) -> None:
    assert matching_step(SECRET, bad, NOW) is None


def test_a_code_for_another_secret_is_refused() -> None:
    other = pyotp.TOTP(new_secret()).at(NOW)
    if other in {code_for(STEP + near) for near in (-1, 0, 1)}:
        pytest.skip("random collision")
    assert matching_step(SECRET, other, NOW) is None


def test_new_secrets_are_base32_and_differ() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert len(first) >= 32
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def test_provisioning_uri_names_the_issuer_and_the_user() -> None:
    uri = provisioning_uri(SECRET, "somchai")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth"
    assert parsed.netloc == "totp"
    assert unquote(parsed.path) == f"/{ISSUER}:somchai"
    query = parse_qs(parsed.query)
    assert query["secret"] == [SECRET]
    assert query["issuer"] == [ISSUER]


@pytest.mark.parametrize("secret", [None, ""])
def test_no_secret_matches_no_code(secret: str | None) -> None:
    """A secret no configured key opens (``portal.kernel.sealing``) is None: every code fails
    (an empty one too: never a secret anyone could compute codes from)."""
    for code in ("123456", "000000", pyotp.TOTP(SECRET).at(NOW)):
        assert matching_step(secret, code, NOW) is None
