"""Inviting an office's first admin: an account in that office and its one-time enrolment link.

The account is made by the staff service (``portal.staff.accounts.create_account``), exactly
as an office admin makes a colleague's, so the platform admin never knows its password or
authenticator. The link starts with the *office's* base URL: enrolment (like sign-in) works
only on the office the account belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.db_engines import office_scope
from portal.kernel import audit
from portal.kernel.offices import OfficeRef
from portal.platform.offices import Who
from portal.staff.accounts import AccountError, create_account
from portal.staff.enrolment import IssuedLink
from portal.tables.staff_user import StaffRole


@dataclass(frozen=True)
class Invitation:
    link: IssuedLink
    url: str
    """The link to hand over, shown once (never stored, never in a redirect)."""


@dataclass(frozen=True)
class Keys:
    enrolment_key: bytes
    totp_key: bytes


async def invite_admin(
    *, office: OfficeRef, username: str, display_name: str, keys: Keys, who: Who
) -> Invitation:
    """A new ``admin`` of ``office`` and its enrolment link. Raises ``AccountError``
    (``bad_username``, ``username_taken``...)."""
    if not office.active:
        raise AccountError("inactive_office")
    # The platform page runs as the default office: the account is written as ``office``'s,
    # under its row security (``portal.db_engines.office_scope``).
    with office_scope(office.id):
        created = await create_account(
            office=office,
            username=username,
            role=StaffRole.admin.value,
            display_name=display_name,
            actor=who.actor,
            client_ip=who.client_ip,
            enrolment_key=keys.enrolment_key,
            totp_key=keys.totp_key,
        )
        await audit.record(
            office_id=office.id,
            actor=who.actor,
            action="office_admin_invited",
            client_ip=who.client_ip,
            details={"username": created.account.username},
        )
    return Invitation(created.link, created.link.url(office.base_url))
