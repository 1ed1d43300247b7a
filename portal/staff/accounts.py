"""Staff accounts: creating them (with a one-time enrolment link, never a password the admin
knows), reading them, switching them on and off. A colleague's own password change is in
``portal.staff.own_password``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.db import is_unique_violation, write_transaction
from portal.staff import audit
from portal.staff.enrolment import IssuedLink, new_link
from portal.tables.staff_user import StaffRole, StaffUser
from portal.timeutil import utcnow

USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,31}")


class AccountError(ValueError):
    """``code``: ``bad_username``, ``username_taken``, ``bad_role`` or a password code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class StaffAccount:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    totp_enrolled: bool


@dataclass(frozen=True)
class CreatedAccount:
    account: StaffAccount
    link: IssuedLink
    """The one-time enrolment link to hand to the colleague; nobody else sets their password."""


def _account(row: dict[str, object]) -> StaffAccount:
    return StaffAccount(
        id=int(str(row["id"])),
        username=str(row["username"]),
        display_name=str(row["display_name"]),
        role=str(row["role"]),
        active=bool(row["active"]),
        totp_enrolled=bool(row["totp_enrolled"]),
    )


_COLUMNS = (
    StaffUser.id,
    StaffUser.username,
    StaffUser.display_name,
    StaffUser.role,
    StaffUser.active,
    StaffUser.totp_enrolled,
)


async def create_account(
    *,
    username: str,
    role: str,
    display_name: str,
    actor: str,
    enrolment_key: bytes,
    totp_key: bytes,
    client_ip: str = "",
) -> CreatedAccount:
    """A new account without a password or authenticator, and its enrolment link."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise AccountError("bad_username")
    if role not in {r.value for r in StaffRole}:
        raise AccountError("bad_role")
    try:
        async with write_transaction():
            user = StaffUser(
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
            )
            await audit.record(
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


async def get_account(staff_id: int) -> StaffAccount | None:
    row = await StaffUser.select(*_COLUMNS).where(StaffUser.id == staff_id).first()
    return _account(row) if row else None


async def list_accounts() -> list[StaffAccount]:
    rows = await StaffUser.select(*_COLUMNS).order_by(StaffUser.username)
    return [_account(row) for row in rows]


async def active_officers() -> list[StaffAccount]:
    rows = (
        await StaffUser.select(*_COLUMNS)
        .where(StaffUser.active.eq(True))
        .order_by(StaffUser.display_name)
    )
    return [_account(row) for row in rows]


async def set_active(staff_id: int, active: bool, *, actor: str, client_ip: str) -> None:
    async with write_transaction():
        found = (
            await StaffUser.update(
                {StaffUser.active: active, StaffUser.session_version: StaffUser.session_version + 1}
            )
            .where(StaffUser.id == staff_id)
            .returning(StaffUser.id)
        )
        if not found:
            raise AccountError("unknown_account")
        await audit.record(
            actor=actor,
            action="staff_activated" if active else "staff_deactivated",
            client_ip=client_ip,
            details={"staff_id": staff_id},
        )
