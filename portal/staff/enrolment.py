"""One-time enrolment links: a colleague sets their own password and enrols their own
authenticator, so the admin who created (or reset) the account never knows either.

- The link carries 256 random bits; only an HMAC of it (keyed by the portal secret) is stored,
  and it is looked up by that hash: a copy of the database opens no account, and a guessed or
  shortened token finds nothing (no prefix to time).
- A link works once, for ``LINK_LIFETIME``, for an active account. A newer link for the same
  account revokes the older ones. Used, expired, revoked and made-up links all answer the same
  404.
- Issuing a link (a new account or an admin's reset) takes the account's password and
  authenticator away at once and ends its sessions: from then on nobody can sign in as that
  colleague until the link is used, so a reset also locks out whoever had the old password or
  phone. The authenticator secret is made when the link is issued, kept encrypted, and shown
  only on the link's page.
- A link works only at its account's office: opened on another office's pages it is as
  unknown as a made-up one.
- Using the link checks the password policy and a code from the freshly scanned app, then sets
  both in one transaction that also marks the link used (a double submit uses it once).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.db import write_transaction
from portal.kernel import audit
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.sealing import decrypt, encrypt
from portal.keyring import as_ring
from portal.staff.passwords import check_policy, hash_password
from portal.staff.totp import matching_step, new_secret, provisioning_uri
from portal.tables.staff_enrolment import StaffEnrolment
from portal.tables.staff_user import StaffUser

LINK_LIFETIME = timedelta(hours=72)
TOKEN_BYTES = 32
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
"""``secrets.token_urlsafe(32)``: anything else is refused before the database is asked."""
LINK_PATH = "/staff/enrol/"


class EnrolmentError(ValueError):
    """``code``: ``not_found`` (any link that does not work), ``mismatch``, ``code``,
    ``unknown_account``, ``inactive``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class IssuedLink:
    token: str
    username: str
    expires_at: datetime

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + LINK_PATH + self.token


@dataclass(frozen=True)
class LinkPage:
    """What the link's page shows: whose account, and the authenticator to scan."""

    username: str
    display_name: str
    otpauth_uri: str
    expires_at: datetime


@dataclass(frozen=True)
class Enrolled:
    staff_id: int
    role: str
    session_version: int


def token_hash(key: bytes, token: str) -> str:
    """Under the current key (a ``KeyRing`` is its current key)."""
    return hmac.new(bytes(key), token.encode(), hashlib.sha256).hexdigest()


def token_hashes(key: bytes, token: str) -> list[str]:
    """Under every configured key: a link sent before ``PORTAL_SECRET_KEY`` changed still
    works for its 72 hours while the old secret is in ``PORTAL_OLD_SECRET_KEYS``."""
    return [token_hash(each, token) for each in as_ring(key).keys]


async def new_link(
    *,
    staff_id: int,
    username: str,
    purpose: str,
    actor: str,
    key: bytes,
    totp_key: bytes,
    office: OfficeRef,
) -> IssuedLink:
    """Inside the caller's transaction: revoke older links, clear the account's credentials,
    give it a fresh authenticator secret, store the new link's hash."""
    now = utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await StaffEnrolment.update({StaffEnrolment.revoked_at: now}).where(
        StaffEnrolment.office == office.id,
        StaffEnrolment.staff_user == staff_id,
        StaffEnrolment.used_at.is_null(),
        StaffEnrolment.revoked_at.is_null(),
    )
    await StaffUser.update(
        {
            StaffUser.password_hash: "",
            StaffUser.totp_secret_encrypted: encrypt(totp_key, new_secret()),
            StaffUser.totp_enrolled: False,
            StaffUser.session_version: StaffUser.session_version + 1,
        }
    ).where(StaffUser.office == office.id, StaffUser.id == staff_id)
    link = IssuedLink(token, username, now + LINK_LIFETIME)
    await StaffEnrolment(
        office=office.id,
        staff_user=staff_id,
        token_hash=token_hash(key, token),
        purpose=purpose,
        created_by=actor[:64],
        created_at=now,
        expires_at=link.expires_at,
    ).save()
    return link


async def issue_reset_link(
    *,
    staff_id: int,
    actor: str,
    client_ip: str,
    key: bytes,
    totp_key: bytes,
    office: OfficeRef,
    lost: str = "password_or_authenticator",
) -> IssuedLink:
    """An admin's reset: a new link; the old password and authenticator stop working now.

    Whatever was lost (``lost``: ``password``, ``authenticator``, or either, as the audit
    log records it), the link sets both again: its page asks for a new password and a code
    from a freshly scanned app, and an account that had kept half of its credentials would be
    open to whoever holds that half (the phone of a forgotten password may be the lost one)."""
    async with write_transaction(serialize=f"staff-enrolment:{staff_id}"):
        user = (
            await StaffUser.select(StaffUser.username, StaffUser.active)
            .where(StaffUser.office == office.id, StaffUser.id == staff_id)
            .first()
        )
        if user is None:
            raise EnrolmentError("unknown_account")
        if not user["active"]:
            raise EnrolmentError("inactive")
        link = await new_link(
            staff_id=staff_id,
            username=user["username"],
            purpose="reset",
            actor=actor,
            key=key,
            totp_key=totp_key,
            office=office,
        )
        await audit.record(
            office_id=office.id,
            actor=actor,
            action="staff_enrolment_reset",
            client_ip=client_ip,
            details={
                "username": user["username"],
                "lost": lost,
                "expires_at": link.expires_at.isoformat(),
            },
        )
    return link


async def _valid_link(
    key: bytes, token: str, now: datetime, office: OfficeRef
) -> dict[str, object] | None:
    """Found by its hash (globally unique), and only if it is ``office``'s own."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    row: dict[str, object] | None = (
        await StaffEnrolment.select(
            StaffEnrolment.id,
            StaffEnrolment.purpose,
            StaffEnrolment.expires_at,
            StaffEnrolment.staff_user.id.as_alias("staff_id"),
            StaffEnrolment.staff_user.username.as_alias("username"),
            StaffEnrolment.staff_user.display_name.as_alias("display_name"),
            StaffEnrolment.staff_user.role.as_alias("role"),
            StaffEnrolment.staff_user.totp_secret_encrypted.as_alias("secret"),
        )
        .where(
            StaffEnrolment.token_hash.is_in(token_hashes(key, token)),
            StaffEnrolment.office == office.id,
            StaffEnrolment.used_at.is_null(),
            StaffEnrolment.revoked_at.is_null(),
            StaffEnrolment.expires_at > now,
            StaffEnrolment.staff_user.active == True,  # noqa: E712 (a column comparison)
        )
        .first()
    )
    return row


async def link_page(
    *, token: str, key: bytes, totp_key: bytes, office: OfficeRef
) -> LinkPage | None:
    """The page behind a working link of ``office``, or None for every link that does not
    work (another office's link included)."""
    row = await _valid_link(key, token, utcnow(), office)
    if row is None:
        return None
    username = str(row["username"])
    secret = decrypt(totp_key, str(row["secret"]))
    if secret is None:
        # Sealed under a secret no longer configured (logged): an admin issues a new link.
        return None
    return LinkPage(
        username=username,
        display_name=str(row["display_name"]),
        otpauth_uri=provisioning_uri(secret, username),
        expires_at=row["expires_at"],  # type: ignore[arg-type]
    )


async def _use_link(
    row: dict[str, object],
    password_hash: str,
    step: int,
    now: datetime,
    client_ip: str,
    office: OfficeRef,
) -> int:
    """Spend the link and set the account's password and authenticator, audited, in one
    transaction; answers the account's new session version. ``not_found`` when the link was
    used or revoked meanwhile."""
    staff_id = int(str(row["staff_id"]))
    async with write_transaction(serialize=f"staff-enrolment:{staff_id}"):
        used = (
            await StaffEnrolment.update({StaffEnrolment.used_at: now})
            .where(
                StaffEnrolment.id == row["id"],
                StaffEnrolment.used_at.is_null(),
                StaffEnrolment.revoked_at.is_null(),
                StaffEnrolment.expires_at > now,
            )
            .returning(StaffEnrolment.id)
        )
        if not used:
            raise EnrolmentError("not_found")
        # Sessions from before (a reset) end; the colleague's new one starts at this version.
        updated = (
            await StaffUser.update(
                {
                    StaffUser.password_hash: password_hash,
                    StaffUser.totp_enrolled: True,
                    StaffUser.totp_last_step: step,
                    StaffUser.session_version: StaffUser.session_version + 1,
                    StaffUser.last_sign_in_at: now,
                }
            )
            .where(StaffUser.office == office.id, StaffUser.id == staff_id)
            .returning(StaffUser.session_version)
        )
        await audit.record(
            office_id=office.id,
            actor=str(row["username"]),
            action="staff_enrolled",
            client_ip=client_ip,
            details={"purpose": str(row["purpose"])},
        )
    return int(updated[0]["session_version"])


async def complete(
    *,
    token: str,
    password: str,
    password_again: str,
    code: str,
    client_ip: str,
    key: bytes,
    totp_key: bytes,
    office: OfficeRef,
) -> Enrolled:
    """Set the colleague's password and authenticator from a working link, once.

    Raises ``EnrolmentError`` (``not_found``, ``mismatch``, ``code``) or ``WeakPassword``.
    The slow password hash is made only once everything else is right.
    """
    now = utcnow()
    row = await _valid_link(key, token, now, office)
    if row is None:
        raise EnrolmentError("not_found")
    username = str(row["username"])
    check_policy(password, username)
    if password != password_again:
        raise EnrolmentError("mismatch")
    step = matching_step(decrypt(totp_key, str(row["secret"])), code, now)
    if step is None:
        raise EnrolmentError("code")
    staff_id = int(str(row["staff_id"]))
    version = await _use_link(row, hash_password(password), step, now, client_ip, office)
    return Enrolled(staff_id=staff_id, role=str(row["role"]), session_version=version)
