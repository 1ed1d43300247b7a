from piccolo.columns import ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import Office


class MovedToken(Table):
    """A tracking link that stopped working because staff moved its request to a new phone.

    Only the digest of the old token is kept, so ``/t/<old token>`` can say "this request now
    reports to another number" instead of a bare 404, and show nothing else.
    """

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    token_hash = Varchar(length=64, unique=True)
    request = ForeignKey(references=CitizenRequest, on_delete=OnDelete.cascade)
    moved_at = Timestamptz()
