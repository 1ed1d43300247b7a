"""Authenticator secrets at rest: AES-GCM, a key of its own, and tampering detected."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag

from portal.settings import Settings
from portal.staff.crypto import decrypt, encrypt

KEY = bytes(range(32))
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_round_trip() -> None:
    assert decrypt(KEY, encrypt(KEY, SECRET)) == SECRET


def test_ciphertext_does_not_contain_the_secret_and_differs_each_time() -> None:
    first, second = encrypt(KEY, SECRET), encrypt(KEY, SECRET)
    assert first != second  # a fresh nonce each time
    for sealed in (first, second):
        assert SECRET not in sealed
        assert SECRET.encode() not in base64.urlsafe_b64decode(sealed)


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
def test_any_flipped_byte_is_detected(position: int) -> None:
    raw = bytearray(base64.urlsafe_b64decode(encrypt(KEY, SECRET)))
    raw[position] ^= 0x01
    with pytest.raises(InvalidTag):
        decrypt(KEY, base64.urlsafe_b64encode(bytes(raw)).decode())


def test_truncated_ciphertext_is_detected() -> None:
    raw = base64.urlsafe_b64decode(encrypt(KEY, SECRET))
    with pytest.raises(InvalidTag):
        decrypt(KEY, base64.urlsafe_b64encode(raw[:-1]).decode())


def test_another_key_cannot_read_it() -> None:
    with pytest.raises(InvalidTag):
        decrypt(bytes(32), encrypt(KEY, SECRET))


def test_the_totp_key_is_its_own_not_the_session_key(settings: Settings) -> None:
    totp_key = settings.derive_key("staff-totp")
    assert len(totp_key) == 32
    assert totp_key != settings.derive_key("session-cookie")
    with pytest.raises(InvalidTag):
        decrypt(settings.derive_key("session-cookie"), encrypt(totp_key, SECRET))
