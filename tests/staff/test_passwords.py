"""Staff passwords: argon2id hashes and the policy (issue 4: at least 8 characters, refuse the
commonest passwords)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from portal.staff.passwords import (
    COMMON_PASSWORDS,
    MIN_LENGTH,
    WeakPassword,
    check_policy,
    hash_password,
    verify_password,
)

ROOT = Path(__file__).resolve().parents[2]


def test_hash_is_argon2id_and_verifies_the_same_password_only() -> None:
    hashed = hash_password("Tham-Ngan-2567!")
    assert hashed.startswith("$argon2id$")
    assert "Tham-Ngan-2567!" not in hashed
    assert verify_password(hashed, "Tham-Ngan-2567!") is True
    assert verify_password(hashed, "tham-ngan-2567!") is False
    assert verify_password(hashed, "") is False


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("Tham-Ngan-2567!") != hash_password("Tham-Ngan-2567!")


def test_verify_with_no_hash_is_false_even_for_the_dummy_password() -> None:
    assert verify_password(None, "anything-at-all") is False
    assert verify_password(None, "not-a-real-password-only-for-equal-timing") is False


def test_verify_with_a_broken_hash_is_false_not_an_error() -> None:
    assert verify_password("not-a-hash", "Tham-Ngan-2567!") is False


@pytest.mark.parametrize("password", ["", "a", "Ab3$efg", "๑๒๓๔๕๖๗"])
def test_policy_refuses_passwords_shorter_than_8(password: str) -> None:
    assert len(password) < MIN_LENGTH == 8
    with pytest.raises(WeakPassword) as refused:
        check_policy(password, "somchai")
    assert refused.value.code == "too_short"


def test_policy_accepts_exactly_8_characters() -> None:
    check_policy("Xk7$pq2Z", "somchai")


@pytest.mark.parametrize(
    "password", ["password", "12345678", "qwertyui", "PASSWORD", "QwErTyUi", "iloveyou"]
)
def test_policy_refuses_common_passwords_whatever_the_case(password: str) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_policy(password, "somchai")
    assert refused.value.code == "too_common"


@pytest.mark.parametrize("password", ["somchai2567!", "xx-SOMCHAI-xx", "my.Somchai.pw"])
def test_policy_refuses_a_password_containing_the_username(password: str) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_policy(password, "somchai")
    assert refused.value.code == "like_username"


def test_policy_refuses_absurdly_long_passwords() -> None:
    with pytest.raises(WeakPassword) as refused:
        check_policy("x" * 257, "somchai")
    assert refused.value.code == "too_long"


def test_policy_accepts_a_decent_password() -> None:
    check_policy("Tham-Ngan-2567!", "somchai")


def test_the_common_password_list_ships_with_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["portal"]
    packaged = COMMON_PASSWORDS.relative_to(ROOT / "portal").as_posix()
    assert any(fnmatch.fnmatch(packaged, pattern) for pattern in patterns), patterns
