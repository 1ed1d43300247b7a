"""Authenticator secrets at rest: AES-GCM, a key of its own, tampering detected, and the key
named in each value so that a rotated secret still opens it."""

from __future__ import annotations

import base64
import logging

import pytest

from portal.kernel.sealing import decrypt, encrypt, is_current, sealed_key_id
from portal.keyring import KeyRing, key_id
from portal.settings import Settings

KEY = bytes(range(32))
OLD_KEY = bytes(range(1, 33))
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _raw(sealed: str) -> bytes:
    return base64.urlsafe_b64decode(sealed.partition("$")[2])


def _with_raw(sealed: str, raw: bytes) -> str:
    return sealed.partition("$")[0] + "$" + base64.urlsafe_b64encode(raw).decode()


def test_round_trip() -> None:
    assert decrypt(KEY, encrypt(KEY, SECRET)) == SECRET


def test_ciphertext_does_not_contain_the_secret_and_differs_each_time() -> None:
    first, second = encrypt(KEY, SECRET), encrypt(KEY, SECRET)
    assert first != second  # a fresh nonce each time
    for sealed in (first, second):
        assert SECRET not in sealed
        assert SECRET.encode() not in _raw(sealed)


def test_the_value_names_its_key() -> None:
    sealed = encrypt(KEY, SECRET)
    assert sealed.startswith(f"k{key_id(KEY)}$")
    assert sealed_key_id(sealed) == key_id(KEY)
    assert key_id(KEY) != key_id(OLD_KEY)


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
def test_any_flipped_byte_is_detected(position: int) -> None:
    sealed = encrypt(KEY, SECRET)
    raw = bytearray(_raw(sealed))
    raw[position] ^= 0x01
    assert decrypt(KEY, _with_raw(sealed, bytes(raw))) is None


def test_truncated_or_garbled_ciphertext_opens_as_nothing() -> None:
    sealed = encrypt(KEY, SECRET)
    assert decrypt(KEY, _with_raw(sealed, _raw(sealed)[:-1])) is None
    assert decrypt(KEY, "not base64 at all!") is None
    assert decrypt(KEY, "k$") is None


def test_another_key_cannot_read_it_and_says_so_without_the_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sealed = encrypt(KEY, SECRET)
    with caplog.at_level(logging.WARNING, logger="portal.keys"):
        assert decrypt(bytes(32), sealed) is None
    assert "opens with no configured key" in caplog.text
    assert sealed not in caplog.text and SECRET not in caplog.text


def test_an_old_key_in_the_ring_still_opens_what_it_sealed() -> None:
    sealed_before = encrypt(OLD_KEY, SECRET)
    ring = KeyRing(KEY, (OLD_KEY,))
    assert decrypt(ring, sealed_before) == SECRET
    assert not is_current(ring, sealed_before)
    resealed = encrypt(ring, SECRET)
    assert is_current(ring, resealed)
    assert decrypt(KEY, resealed) == SECRET  # sealed with the current key only


def test_values_from_before_key_ids_open_by_trying_each_key() -> None:
    """What databases hold today: plain base64 of nonce and ciphertext, no key id."""
    legacy = base64.urlsafe_b64encode(_raw(encrypt(OLD_KEY, SECRET))).decode()
    assert sealed_key_id(legacy) is None
    assert decrypt(KEY, legacy) is None
    assert decrypt(KeyRing(KEY, (OLD_KEY,)), legacy) == SECRET
    assert not is_current(KEY, legacy)


def test_the_totp_key_is_its_own_not_the_session_key(settings: Settings) -> None:
    totp_key = settings.derive_key("staff-totp")
    assert len(totp_key) == 32
    assert totp_key != settings.derive_key("session-cookie")
    assert decrypt(settings.derive_key("session-cookie"), encrypt(totp_key, SECRET)) is None
