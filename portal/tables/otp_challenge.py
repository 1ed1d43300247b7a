from enum import StrEnum

from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.office import Office


class OtpPurpose(StrEnum):
    submit = "submit"
    track = "track"


class OtpChallenge(Table):
    """One SMS code sent: only a keyed hash of it, and what it is bound to.

    The rows double as the send log for rate limits (per phone, per IP, per day), so the
    limits hold across workers without any state in process memory.
    """

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    phone = Varchar(length=16, index=True)
    purpose = Varchar(length=16, choices=OtpPurpose)
    session_hash = Varchar(length=64)
    code_hash = Varchar(length=64)
    client_ip = Varchar(length=64, index=True)
    client_net = Varchar(length=64, default="", index=True)
    """The address as carriers hand them out (IPv4 address, IPv6 /64 by default): per-address
    limits count this, so one phone rotating through its IPv6 /64 is still one address."""
    failed_attempts = Integer(default=0)
    created_at = Timestamptz(index=True)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    killed_at = Timestamptz(null=True, default=None)
    consumed_at = Timestamptz(null=True, default=None)
    """Set in the filing's transaction: one verification files one request, and every form
    key issued under it dies with it."""
