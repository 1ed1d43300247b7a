"""Key rings: the current key signs and seals, the older ones only check and open."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.keyring import KeyRing, as_ring, derive, key_id
from portal.otp.form_keys import form_key_verification, issue_form_key
from portal.settings import SettingsError
from tests.conftest import make_settings

OLD = "an-old-secret-that-is-long-enough-0123456789"
OLDER = "an-older-secret-that-is-long-enough-987654321"
NEW = "the-new-secret-that-is-long-enough-abcdefghij"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_ring_is_the_current_key_and_lists_the_older_ones_newest_first(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path, "sqlite:///x.db", PORTAL_SECRET_KEY=NEW, PORTAL_OLD_SECRET_KEYS=f"{OLD}, {OLDER}"
    )
    ring = settings.derive_key("form-key")
    assert ring == derive(NEW, "form-key")  # what seals and signs: the current key alone
    assert ring.keys == (
        derive(NEW, "form-key"),
        derive(OLD, "form-key"),
        derive(OLDER, "form-key"),
    )
    assert ring.current_id == key_id(derive(NEW, "form-key"))
    assert ring.by_id(key_id(derive(OLD, "form-key"))) == derive(OLD, "form-key")
    assert ring.by_id("00000000") is None
    # Purposes stay apart under the old secrets too.
    assert set(ring.keys).isdisjoint(settings.derive_key("session-cookie").keys)


def test_an_old_secret_equal_to_the_current_one_is_not_tried_twice(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, "sqlite:///x.db", PORTAL_SECRET_KEY=NEW, PORTAL_OLD_SECRET_KEYS=NEW
    )
    assert settings.derive_key("csrf").older == ()


def test_a_short_old_secret_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_OLD_SECRET_KEYS"):
        make_settings(tmp_path, "sqlite:///x.db", PORTAL_OLD_SECRET_KEYS="short")


def test_key_ids_are_short_stable_and_do_not_reveal_the_key() -> None:
    key = derive(NEW, "staff-totp")
    assert key_id(key) == key_id(derive(NEW, "staff-totp"))
    assert len(key_id(key)) == 8 and key_id(key) not in key.hex()
    assert key_id(key) != key_id(derive(OLD, "staff-totp"))


def test_a_plain_key_is_a_ring_of_one() -> None:
    ring = as_ring(b"k" * 32)
    assert ring.keys == (b"k" * 32,) and ring.older == ()
    assert as_ring(ring) is ring


def test_a_form_key_issued_under_an_old_secret_still_vouches() -> None:
    old, new = derive(OLD, "form-key"), derive(NEW, "form-key")
    key = issue_form_key(
        old, browser="b", phone="+66812345678", verification=7, now=NOW, office_id=1
    )
    check = {"browser": "b", "phone": "+66812345678", "now": NOW, "office_id": 1}
    assert form_key_verification(KeyRing(new, (old,)), key, **check) == 7
    assert form_key_verification(new, key, **check) is None
    assert form_key_verification(KeyRing(new, (old,)), key, **{**check, "browser": "c"}) is None
    fresh = issue_form_key(
        KeyRing(new, (old,)),
        browser="b",
        phone="+66812345678",
        verification=7,
        now=NOW,
        office_id=1,
    )
    assert form_key_verification(new, fresh, **check) == 7  # issued under the current key
