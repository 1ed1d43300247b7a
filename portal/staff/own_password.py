"""A colleague changes their own password: the current one, then the new one twice.

The current password is checked under the sign-in throttle (same rows, same rules), so a
session left open on a shared computer is no way to guess it. A change ends every other
session of the account (``session_version`` goes up; the caller restarts its own session at
the new version) and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.db import write_transaction
from portal.kernel import audit
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.staff.passwords import check_policy, hash_password, verify_password
from portal.staff.sign_in import client_net, forget_check, reserve_check, retry_after, wait_needed
from portal.tables.staff_user import StaffUser


class PasswordChangeError(ValueError):
    """``code``: ``wrong_current``, ``mismatch``, ``throttled`` (see ``retry_after``)."""

    def __init__(self, code: str, retry_after: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


@dataclass(frozen=True)
class PasswordChanged:
    session_version: int


async def change_password(
    *,
    staff_id: int,
    current: str,
    new: str,
    new_again: str,
    client_ip: str,
    ipv6_prefix: int,
    office: OfficeRef,
) -> PasswordChanged:
    """Raises ``PasswordChangeError`` or ``WeakPassword``; nothing changes then."""
    user = (
        await StaffUser.select(StaffUser.username, StaffUser.password_hash)
        .where(StaffUser.office == office.id, StaffUser.id == staff_id, StaffUser.active.eq(True))
        .first()
    )
    if user is None:
        raise PasswordChangeError("wrong_current")
    username = str(user["username"])
    check_policy(new, username)
    if new != new_again:
        raise PasswordChangeError("mismatch")
    now = utcnow()
    net = client_net(client_ip, ipv6_prefix)
    wait = await wait_needed(username, net, now, office=office)
    attempt_id = None
    if wait.total_seconds() <= 0:
        attempt_id, wait = await reserve_check(username, client_ip, net, now, office=office)
    if attempt_id is None:
        raise PasswordChangeError("throttled", retry_after(wait))
    if not verify_password(user["password_hash"], current):
        raise PasswordChangeError("wrong_current")  # the reserved row stays: a failure
    await forget_check(attempt_id)
    password_hash = hash_password(new)
    async with write_transaction():
        rows = (
            await StaffUser.update(
                {
                    StaffUser.password_hash: password_hash,
                    StaffUser.session_version: StaffUser.session_version + 1,
                }
            )
            # Unchanged since checked: a reset link issued meanwhile is not undone.
            .where(
                StaffUser.office == office.id,
                StaffUser.id == staff_id,
                StaffUser.password_hash == user["password_hash"],
            )
            .returning(StaffUser.session_version)
        )
        if not rows:
            raise PasswordChangeError("wrong_current")
        await audit.record(
            office_id=office.id, actor=username, action="password_changed", client_ip=client_ip
        )
    return PasswordChanged(session_version=int(rows[0]["session_version"]))
