"""Staff accounts as a service: usernames, roles, the encrypted authenticator secret."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pyotp
import pytest

from portal.settings import Settings
from portal.staff.accounts import (
    AccountError,
    active_officers,
    create_account,
    enrolment_uri,
    get_account,
    list_accounts,
    set_active,
)
from portal.staff.crypto import decrypt
from portal.staff.passwords import WeakPassword, verify_password
from portal.tables.audit_event import AuditEvent
from portal.tables.staff_user import StaffUser
from tests.staff.helpers import PASSWORD, secret_of

T = TypeVar("T")


def fresh(function: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        return await function()

    return asyncio.run(go())


@pytest.fixture
def totp_key(settings: Settings) -> bytes:
    return settings.derive_key("staff-totp")


def create(totp_key: bytes, **fields: str) -> Any:
    values = {
        "username": "somchai",
        "password": PASSWORD,
        "role": "officer",
        "display_name": "สมชาย",
        **fields,
    }
    return fresh(lambda: create_account(totp_key=totp_key, actor="test", **values))


def test_created_account_stores_a_hash_and_an_encrypted_secret(totp_key: bytes) -> None:
    created = create(totp_key, username="  SomChai ")
    assert created.account.username == "somchai"
    assert created.account.totp_enrolled is False
    assert created.account.active is True
    secret = secret_of(created.otpauth_uri)
    row = fresh(lambda: StaffUser.select().where(StaffUser.id == created.account.id).first())
    assert verify_password(row["password_hash"], PASSWORD)
    assert secret not in row["totp_secret_encrypted"]
    assert decrypt(totp_key, row["totp_secret_encrypted"]) == secret
    assert pyotp.parse_uri(created.otpauth_uri).name == "somchai"
    # The enrolment page shows the same URI later.
    assert fresh(lambda: enrolment_uri(created.account.id, totp_key)) == created.otpauth_uri
    assert fresh(lambda: enrolment_uri(999_999, totp_key)) is None


def test_each_account_gets_its_own_secret(totp_key: bytes) -> None:
    first = create(totp_key, username="somchai")
    second = create(totp_key, username="malee")
    assert secret_of(first.otpauth_uri) != secret_of(second.otpauth_uri)


@pytest.mark.parametrize("username", ["ab", "9lives", "สมชาย", "a b", "a" * 33, "a/b", ""])
def test_bad_usernames_are_refused(totp_key: bytes, username: str) -> None:
    with pytest.raises(AccountError) as refused:
        create(totp_key, username=username)
    assert refused.value.code == "bad_username"
    assert fresh(lambda: StaffUser.count()) == 0


@pytest.mark.parametrize("username", ["abc", "som.chai", "som_chai-2", "a" * 32])
def test_good_usernames_are_accepted(totp_key: bytes, username: str) -> None:
    assert create(totp_key, username=username).account.username == username


def test_unknown_role_is_refused(totp_key: bytes) -> None:
    with pytest.raises(AccountError) as refused:
        create(totp_key, role="superuser")
    assert refused.value.code == "bad_role"


def test_weak_password_is_refused_before_anything_is_saved(totp_key: bytes) -> None:
    with pytest.raises(WeakPassword):
        create(totp_key, password="somchai-2567")
    assert fresh(lambda: StaffUser.count()) == 0
    assert fresh(lambda: AuditEvent.count()) == 0


def test_a_taken_username_is_refused_and_nothing_else_saved(totp_key: bytes) -> None:
    create(totp_key)
    with pytest.raises(AccountError) as refused:
        create(totp_key, username="SOMCHAI")
    assert refused.value.code == "username_taken"
    assert fresh(lambda: StaffUser.count()) == 1
    assert fresh(lambda: AuditEvent.count().where(AuditEvent.action == "staff_created")) == 1


def test_lists_and_deactivation(totp_key: bytes) -> None:
    somchai = create(totp_key, username="somchai", display_name="ข สมชาย").account
    malee = create(totp_key, username="malee", display_name="ก มาลี", role="admin").account
    assert [a.username for a in fresh(list_accounts)] == ["malee", "somchai"]
    assert [a.username for a in fresh(active_officers)] == ["malee", "somchai"]
    fresh(lambda: set_active(somchai.id, False, actor="malee", client_ip="192.0.2.9"))
    assert [a.username for a in fresh(active_officers)] == ["malee"]
    account = fresh(lambda: get_account(somchai.id))
    assert account is not None and account.active is False
    assert fresh(lambda: get_account(malee.id + somchai.id + 100)) is None
