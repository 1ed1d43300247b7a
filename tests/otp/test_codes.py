from __future__ import annotations

import hashlib

import pytest

from portal.otp.codes import (
    code_hash,
    code_matches,
    is_well_formed,
    new_code,
    normalise_code,
    session_hash,
)

KEY = b"k" * 32
PHONE = "+66800000001"
BINDING = {"phone": PHONE, "purpose": "submit", "bound_session": session_hash("browser-a")}


def test_new_code_is_six_ascii_digits() -> None:
    for _ in range(200):
        code = new_code()
        assert len(code) == 6
        assert code.isascii() and code.isdigit()


def test_new_codes_vary_and_keep_leading_zeros() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) > 1900
    assert any(code.startswith("0") for code in codes)


def test_same_code_and_binding_hash_the_same() -> None:
    assert code_hash(KEY, code="123456", **BINDING) == code_hash(KEY, code="123456", **BINDING)


def test_hash_does_not_contain_the_code() -> None:
    assert "123456" not in code_hash(KEY, code="123456", **BINDING)


def test_hash_depends_on_the_key() -> None:
    assert code_hash(KEY, code="123456", **BINDING) != code_hash(
        b"other-key" * 4, code="123456", **BINDING
    )


def test_hash_is_not_a_plain_hash_of_the_code() -> None:
    plain = hashlib.sha256(b"123456").hexdigest()
    assert code_hash(KEY, code="123456", **BINDING) != plain


@pytest.mark.parametrize(
    "change",
    [
        {"phone": "+66800000002"},
        {"purpose": "track"},
        {"bound_session": session_hash("browser-b")},
        {"code": "123457"},
    ],
)
def test_hash_is_bound_to_phone_purpose_session_and_code(change: dict[str, str]) -> None:
    original = code_hash(KEY, code="123456", **BINDING)
    changed = {"code": "123456", **BINDING, **change}
    assert code_hash(KEY, **changed) != original


def test_session_hash_hides_the_session_id() -> None:
    hashed = session_hash("browser-a")
    assert "browser-a" not in hashed
    assert hashed == session_hash("browser-a")
    assert hashed != session_hash("browser-b")


@pytest.mark.parametrize("code", ["000000", "123456", "999999"])
def test_six_ascii_digits_are_well_formed(code: str) -> None:
    assert is_well_formed(code)


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "12345a", "12 456", "๑๒๓๔๕๖", "١٢٣٤٥٦", "123456\n", "-12345"],
)
def test_anything_else_is_not_well_formed(code: str) -> None:
    assert not is_well_formed(code)


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [("๑๒๓๔๕๖", "123456"), ("123 456", "123456"), ("123-456", "123456"), ("12a456", "12a456")],
)
def test_codes_typed_with_thai_digits_or_separators_are_normalised(
    typed: str, normalised: str
) -> None:
    assert normalise_code(typed) == normalised


def test_a_code_hashed_under_an_old_key_still_matches_while_that_key_is_configured() -> None:
    """A code sent just before PORTAL_SECRET_KEY changed works for its few minutes."""
    from portal.keyring import KeyRing

    old, new = b"o" * 32, b"n" * 32
    stored = code_hash(old, code="123456", **BINDING)
    assert code_matches(KeyRing(new, (old,)), stored, code="123456", **BINDING)
    assert not code_matches(KeyRing(new, (old,)), stored, code="654321", **BINDING)
    assert not code_matches(new, stored, code="123456", **BINDING)
    assert code_matches(
        new, code_hash(KeyRing(new, (old,)), code="1", **BINDING), code="1", **BINDING
    )
