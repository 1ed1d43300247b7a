from piccolo.columns import Boolean, ForeignKey, OnDelete, Serial, Text, Varchar
from piccolo.table import Table

from portal.tables.citizen_request import RequestStatus
from portal.tables.office import Office
from portal.tables.service import Service


class ReplyTemplate(Table):
    """A ready note to the citizen for a status; ``service`` null means every service."""

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    service = ForeignKey(references=Service, null=True, default=None)
    status = Varchar(length=16, choices=RequestStatus)
    title = Varchar(length=200)
    text = Text()
    active = Boolean(default=True)
