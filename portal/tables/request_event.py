from piccolo.columns import ForeignKey, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.citizen_request import CitizenRequest, RequestStatus
from portal.tables.office import Office


class RequestEvent(Table):
    """One step of a request's timeline: a status it entered, who moved it, the public note."""

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    request = ForeignKey(references=CitizenRequest, index=True)
    status = Varchar(length=16, choices=RequestStatus)
    actor = Varchar(length=64)
    public_note = Text(default="")
    created_at = Timestamptz()
