from enum import StrEnum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Unique
from piccolo.table import Table

from portal.tables.office import Office


class StaffRole(StrEnum):
    officer = "officer"
    """Works requests."""
    admin = "admin"
    """Also manages staff accounts and the service catalogue."""
    platform_admin = "platform_admin"
    """Also creates offices and invites their first admins (on the platform's own office)."""


class StaffUser(Table):
    """An office staff member. The TOTP secret is stored encrypted (see portal.kernel.sealing)."""

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    username = Varchar(length=64)
    display_name = Varchar(length=200, default="")
    role = Varchar(length=16, choices=StaffRole, default=StaffRole.officer)
    password_hash = Text()
    totp_secret_encrypted = Text()
    totp_last_step = Integer(default=0)
    """The last authenticator time step accepted: a code is never accepted twice."""
    totp_enrolled = Boolean(default=False)
    """False until the first sign-in has shown the QR code and a code from the app was entered."""
    active = Boolean(default=True)
    session_version = Integer(default=0)
    """Bumped at sign-out and deactivation: every session cookie issued before stops working."""
    created_at = Timestamptz()
    last_sign_in_at = Timestamptz(null=True, default=None)

    unique_office_username = Unique(["office", "username"])
    """Two offices may each have a ``somchai``; an account signs in on its own office only."""
