"""Staff accounts as a service: usernames, roles, no password of the admin's choosing, and the
enrolment link that lets the owner choose one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from portal.kernel.sealing import decrypt
from portal.settings import Settings
from portal.staff.accounts import (
    AccountError,
    active_officers,
    create_account,
    list_accounts,
    set_active,
    set_role,
)
from portal.staff.enrolment import LINK_LIFETIME, link_page, token_hash
from portal.staff.passwords import verify_password
from portal.tables.audit_event import AuditEvent
from portal.tables.staff_enrolment import StaffEnrolment
from portal.tables.staff_user import StaffUser
from tests.conftest import fresh
from tests.staff.helpers import (
    BASE_URL,
    PASSWORD,
    Clock,
    default_office,
    get_account,
    make_staff,
    secret_of,
)


@pytest.fixture
def totp_key(settings: Settings) -> bytes:
    return settings.derive_key("staff-totp")


ENROLMENT_KEY = b"k" * 32
OFFICE = default_office()
"""The default office (its id is what counts here)."""


def create(totp_key: bytes, **fields: str) -> Any:
    values = {"username": "somchai", "role": "officer", "display_name": "สมชาย", **fields}
    return fresh(
        lambda: create_account(
            totp_key=totp_key, enrolment_key=ENROLMENT_KEY, actor="test", office=OFFICE, **values
        )
    )


def secret_behind(totp_key: bytes, token: str) -> str:
    page = fresh(
        lambda: link_page(token=token, key=ENROLMENT_KEY, totp_key=totp_key, office=OFFICE)
    )
    assert page is not None
    return secret_of(page.otpauth_uri)


def test_a_created_account_has_no_password_and_a_link_for_its_owner(
    totp_key: bytes, clock: Clock
) -> None:
    created = create(totp_key, username="  SomChai ")
    assert created.account.username == "somchai"
    assert created.account.totp_enrolled is False
    assert created.account.active is True
    row = fresh(lambda: StaffUser.select().where(StaffUser.id == created.account.id).first())
    assert row["password_hash"] == ""
    assert not verify_password(row["password_hash"], PASSWORD)
    # The authenticator secret is encrypted, and shown only behind the link.
    secret = secret_behind(totp_key, created.link.token)
    assert secret not in row["totp_secret_encrypted"]
    assert decrypt(totp_key, row["totp_secret_encrypted"]) == secret
    # The link: its URL, 72 hours, and only a keyed hash of its token stored.
    assert created.link.url(BASE_URL) == f"{BASE_URL}/staff/enrol/{created.link.token}"
    assert created.link.expires_at == clock.now + LINK_LIFETIME
    (link,) = fresh(lambda: StaffEnrolment.select())
    assert link["token_hash"] == token_hash(ENROLMENT_KEY, created.link.token)
    assert created.link.token not in str(link)
    assert (link["purpose"], link["created_by"], link["used_at"]) == ("enrol", "test", None)


def test_each_account_gets_its_own_secret(totp_key: bytes) -> None:
    first = create(totp_key, username="somchai")
    second = create(totp_key, username="malee")
    assert secret_behind(totp_key, first.link.token) != secret_behind(totp_key, second.link.token)


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


def test_a_taken_username_is_refused_and_nothing_else_saved(totp_key: bytes) -> None:
    create(totp_key)
    with pytest.raises(AccountError) as refused:
        create(totp_key, username="SOMCHAI")
    assert refused.value.code == "username_taken"
    assert fresh(lambda: StaffUser.count()) == 1
    assert fresh(lambda: StaffEnrolment.count()) == 1
    assert fresh(lambda: AuditEvent.count().where(AuditEvent.action == "staff_created")) == 1


def test_lists_and_deactivation(totp_key: bytes) -> None:
    somchai = create(totp_key, username="somchai", display_name="ข สมชาย").account
    malee = create(totp_key, username="malee", display_name="ก มาลี", role="admin").account
    assert [a.username for a in fresh(lambda: list_accounts(office=OFFICE))] == ["malee", "somchai"]
    assert [a.username for a in fresh(lambda: active_officers(office=OFFICE))] == [
        "malee",
        "somchai",
    ]
    fresh(
        lambda: set_active(somchai.id, False, office=OFFICE, actor="malee", client_ip="192.0.2.9")
    )
    assert [a.username for a in fresh(lambda: active_officers(office=OFFICE))] == ["malee"]
    account = fresh(lambda: get_account(somchai.id))
    assert account is not None and account.active is False
    assert fresh(lambda: get_account(malee.id + somchai.id + 100)) is None


def test_two_admins_switching_each_other_off_at_once_leave_one(settings: Settings) -> None:
    """The last-admin guard and the change run under one lock: whichever goes second is
    refused, so the office always keeps an admin who can sign in."""
    boss = make_staff(fresh, settings, "boss", role="admin")
    deputy = make_staff(fresh, settings, "deputy", role="admin")

    async def both() -> list[BaseException | None]:
        results = await asyncio.gather(
            set_active(boss.id, False, office=OFFICE, actor="deputy", client_ip=""),
            set_active(deputy.id, False, office=OFFICE, actor="boss", client_ip=""),
            return_exceptions=True,
        )
        return list(results)

    outcomes = fresh(both)
    refused = [o for o in outcomes if isinstance(o, AccountError)]
    assert len(refused) == 1 and refused[0].code == "last_admin"
    assert outcomes.count(None) == 1
    active = fresh(lambda: StaffUser.count().where(StaffUser.active.eq(True)))
    assert active == 1


def test_set_role_keeps_an_admin_who_can_sign_in(settings: Settings) -> None:
    boss = make_staff(fresh, settings, "boss", role="admin")
    pending = make_staff(fresh, settings, "newboss", role="admin", enrolled=False)
    with pytest.raises(AccountError) as refused:
        fresh(lambda: set_role(boss.id, "officer", office=OFFICE, actor="test"))
    assert refused.value.code == "last_admin"
    with pytest.raises(AccountError) as off:
        fresh(lambda: set_active(boss.id, False, office=OFFICE, actor="test", client_ip=""))
    assert off.value.code == "last_admin"
    assert fresh(lambda: set_role(pending.id, "officer", office=OFFICE, actor="test")) is True
    assert fresh(lambda: set_role(pending.id, "admin", office=OFFICE, actor="test")) is True
    for code, call in (
        ("bad_role", lambda: set_role(boss.id, "root", office=OFFICE, actor="test")),
        (
            "unknown_account",
            lambda: set_role(boss.id + pending.id + 100, "admin", office=OFFICE, actor="test"),
        ),
    ):
        with pytest.raises(AccountError) as error:
            fresh(call)
        assert error.value.code == code
    account = fresh(lambda: get_account(boss.id))
    assert account is not None and (account.role, account.active) == ("admin", True)
