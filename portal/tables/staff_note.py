from piccolo.columns import ForeignKey, OnDelete, Serial, Text, Timestamptz
from piccolo.table import Table

from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import Office
from portal.tables.staff_user import StaffUser


class StaffNote(Table):
    """An internal note on a request: for the office only, never shown to the citizen."""

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    request = ForeignKey(references=CitizenRequest, index=True)
    author = ForeignKey(references=StaffUser, on_delete=OnDelete.restrict)
    text = Text()
    created_at = Timestamptz()
