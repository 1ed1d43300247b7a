from piccolo.columns import ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.office import Office
from portal.tables.staff_user import StaffUser


class StaffEnrolment(Table):
    """A one-time link that lets a staff member set their own password and enrol their own
    authenticator, so the admin who created (or reset) the account never knows either.

    Only a keyed hash of the link's token is kept; a link works once and until ``expires_at``.
    """

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    staff_user = ForeignKey(references=StaffUser, index=True, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True)
    purpose = Varchar(length=16, default="enrol")
    """``enrol`` (a new account), ``reset`` (password and authenticator) or ``password``."""
    created_by = Varchar(length=64, default="")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    """A newer link for the same account revokes the older ones."""
