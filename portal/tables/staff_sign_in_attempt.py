from piccolo.columns import Boolean, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.office import Office


class StaffSignInAttempt(Table):
    """Every staff sign-in attempt, by the username typed (known or not) and address.

    Throttling reads these rows, so an unknown username is slowed down exactly like a known
    one and the answer never tells which exists.
    """

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    username = Varchar(length=64, index=True)
    client_ip = Varchar(length=64, index=True)
    client_net = Varchar(length=64, default="", index=True)
    """The address group (IPv4 address, IPv6 /64 by default) the per-address throttle counts."""
    succeeded = Boolean(default=False)
    created_at = Timestamptz(index=True)
