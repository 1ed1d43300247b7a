"""Staff accounts: creating them (with a one-time enrolment link, never a password the admin
knows), reading them, switching them on and off, changing their role. A colleague's own
password change is in ``portal.staff.own_password``.

Accounts belong to an office: usernames are unique per office, and every function here acts
within the ``office`` it is given (an id of another office's account is an unknown account).

The office must never lose its last admin: switching off or demoting an admin is refused
unless another admin can still sign in (active, and enrolled: not waiting on a link). The
check runs under one lock per office (``ADMINS_LOCK``) with the change, so two admins
switching each other off at the same moment cannot both succeed. Resetting an admin's
enrolment is never refused: that is the way back in after a lost phone
(``portal staff reset-2fa``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from portal.db import is_unique_violation, write_transaction
from portal.kernel import audit
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.staff.enrolment import IssuedLink, new_link
from portal.tables.staff_enrolment import StaffEnrolment
from portal.tables.staff_user import StaffRole, StaffUser

USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,31}")
ADMINS_LOCK = "staff-admins"
"""Serialises every change that could leave the office without an admin (with its id)."""


def _admins_lock(office: OfficeRef) -> str:
    return f"{ADMINS_LOCK}:{office.id}"


class AccountError(ValueError):
    """``code``: ``bad_username``, ``username_taken``, ``bad_role``, ``unknown_account``,
    ``last_admin`` or a password code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Actor:
    """Who does an audited staff action: the account, its sign-in name (the audit log keeps
    the name, which outlives the account) and where the request came from
    (``portal.staff.acting`` makes one per request)."""

    staff_id: int
    username: str
    client_ip: str


@dataclass(frozen=True)
class StaffAccount:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    totp_enrolled: bool
    last_sign_in_at: datetime | None = None
    link_expires_at: datetime | None = None
    """When the account's working enrolment link ends; None without one (``list_accounts``)."""


@dataclass(frozen=True)
class CreatedAccount:
    account: StaffAccount
    link: IssuedLink
    """The one-time enrolment link to hand to the colleague; nobody else sets their password."""


def _account(row: dict[str, object], link_expires_at: datetime | None = None) -> StaffAccount:
    last = row["last_sign_in_at"]
    return StaffAccount(
        id=int(str(row["id"])),
        username=str(row["username"]),
        display_name=str(row["display_name"]),
        role=str(row["role"]),
        active=bool(row["active"]),
        totp_enrolled=bool(row["totp_enrolled"]),
        last_sign_in_at=last if isinstance(last, datetime) else None,
        link_expires_at=link_expires_at,
    )


_COLUMNS = (
    StaffUser.id,
    StaffUser.username,
    StaffUser.display_name,
    StaffUser.role,
    StaffUser.active,
    StaffUser.totp_enrolled,
    StaffUser.last_sign_in_at,
)


OFFICE_ROLES = (StaffRole.officer.value, StaffRole.admin.value)
"""What an office's admin may give (the accounts page). ``platform_admin`` is given only by the
``portal`` command, on the default office: never through a web form an office admin can post."""


async def create_account(
    *,
    username: str,
    role: str,
    display_name: str,
    actor: str,
    enrolment_key: bytes,
    totp_key: bytes,
    office: OfficeRef,
    client_ip: str = "",
    grantable: tuple[str, ...] = OFFICE_ROLES,
) -> CreatedAccount:
    """A new account of ``office`` without a password or authenticator, and its enrolment
    link; ``username_taken`` only when this office already has the name."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise AccountError("bad_username")
    if role not in grantable:
        raise AccountError("bad_role")
    try:
        async with write_transaction():
            user = StaffUser(
                office=office.id,
                username=username,
                display_name=display_name.strip()[:200],
                role=role,
                password_hash="",
                totp_secret_encrypted="",
                created_at=utcnow(),
            )
            await user.save()
            link = await new_link(
                staff_id=int(user.id),
                username=username,
                purpose="enrol",
                actor=actor,
                key=enrolment_key,
                totp_key=totp_key,
                office=office,
            )
            await audit.record(
                office_id=office.id,
                actor=actor,
                action="staff_created",
                client_ip=client_ip,
                details={"username": username, "role": role},
            )
    except Exception as error:
        if is_unique_violation(error):
            raise AccountError("username_taken") from error
        raise
    account = StaffAccount(int(user.id), username, user.display_name, role, True, False)
    return CreatedAccount(account, link)


async def username_of(staff_id: int, *, office: OfficeRef) -> str | None:
    """The sign-in name the audit log records for ``staff_id``; None for no such account in
    ``office``."""
    row = (
        await StaffUser.select(StaffUser.username)
        .where(StaffUser.office == office.id, StaffUser.id == staff_id)
        .first()
    )
    return str(row["username"]) if row else None


async def find_account(username: str, *, office: OfficeRef) -> StaffAccount | None:
    """By sign-in name in ``office``, as typed (``portal staff``): case and spaces do not
    matter."""
    row = (
        await StaffUser.select(*_COLUMNS)
        .where(StaffUser.office == office.id, StaffUser.username == username.strip().lower())
        .first()
    )
    return _account(row) if row else None


async def list_accounts(*, office: OfficeRef) -> list[StaffAccount]:
    """Every account of ``office``, with the expiry of its working enrolment link if it has
    one."""
    rows = (
        await StaffUser.select(*_COLUMNS)
        .where(StaffUser.office == office.id)
        .order_by(StaffUser.username)
    )
    links = await StaffEnrolment.select(StaffEnrolment.staff_user, StaffEnrolment.expires_at).where(
        StaffEnrolment.office == office.id,
        StaffEnrolment.used_at.is_null(),
        StaffEnrolment.revoked_at.is_null(),
        StaffEnrolment.expires_at > utcnow(),
    )
    expiry = {int(link["staff_user"]): link["expires_at"] for link in links}
    return [_account(row, expiry.get(int(row["id"]))) for row in rows]


async def active_officers(*, office: OfficeRef) -> list[StaffAccount]:
    """Whom a request of ``office`` can be given to."""
    rows = (
        await StaffUser.select(*_COLUMNS)
        .where(StaffUser.office == office.id, StaffUser.active.eq(True))
        .order_by(StaffUser.display_name)
    )
    return [_account(row) for row in rows]


async def _keep_an_admin(staff_id: int, office: OfficeRef) -> None:
    """Inside a transaction serialised on ``ADMINS_LOCK``, before ``staff_id`` is switched off
    or demoted: refuse if it is an active admin and no other admin can sign in."""
    target = (
        await StaffUser.select(StaffUser.role, StaffUser.active)
        .where(StaffUser.office == office.id, StaffUser.id == staff_id)
        .first()
    )
    if target is None:
        raise AccountError("unknown_account")
    if target["role"] != StaffRole.admin or not target["active"]:
        return
    another = await StaffUser.exists().where(
        StaffUser.office == office.id,
        StaffUser.id != staff_id,
        StaffUser.role == StaffRole.admin,
        StaffUser.active.eq(True),
        StaffUser.totp_enrolled.eq(True),
    )
    if not another:
        raise AccountError("last_admin")


async def set_role(
    staff_id: int,
    role: str,
    *,
    office: OfficeRef,
    actor: str,
    client_ip: str = "",
    grantable: tuple[str, ...] = OFFICE_ROLES,
) -> bool:
    """Make the account an officer or an admin; False if it already was. The new role applies
    on the account's next request (the staff guard reads it from the database)."""
    if role not in grantable:
        raise AccountError("bad_role")
    async with write_transaction(serialize=_admins_lock(office)):
        row = (
            await StaffUser.select(StaffUser.username, StaffUser.role)
            .where(StaffUser.office == office.id, StaffUser.id == staff_id)
            .first()
        )
        if row is None:
            raise AccountError("unknown_account")
        if row["role"] == role:
            return False
        if role != StaffRole.admin:
            await _keep_an_admin(staff_id, office)
        await StaffUser.update({StaffUser.role: role}).where(
            StaffUser.office == office.id, StaffUser.id == staff_id
        )
        await audit.record(
            office_id=office.id,
            actor=actor,
            action="staff_role_changed",
            client_ip=client_ip,
            details={"username": row["username"], "from": row["role"], "to": role},
        )
    return True


async def set_active(
    staff_id: int, active: bool, *, office: OfficeRef, actor: str, client_ip: str
) -> None:
    async with write_transaction(serialize=_admins_lock(office)):
        if not active:
            await _keep_an_admin(staff_id, office)
        found = (
            await StaffUser.update(
                {StaffUser.active: active, StaffUser.session_version: StaffUser.session_version + 1}
            )
            .where(StaffUser.office == office.id, StaffUser.id == staff_id)
            .returning(StaffUser.id)
        )
        if not found:
            raise AccountError("unknown_account")
        await audit.record(
            office_id=office.id,
            actor=actor,
            action="staff_activated" if active else "staff_deactivated",
            client_ip=client_ip,
            details={"staff_id": staff_id},
        )
