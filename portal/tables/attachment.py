from enum import StrEnum

from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import Office
from portal.tables.staff_user import StaffUser


class AttachmentStage(StrEnum):
    """``before``: the citizen's photo of the problem; ``after``: staff's photo of the fix."""

    before = "before"
    after = "after"


class Attachment(Table):
    """A photo or PDF. Uploaded before filing it is *pending*: ``request`` is empty and
    ``upload_group`` ties it to one form (and ``phone`` to the verified phone), so a request
    is never filed half-uploaded and a retried upload does not lose the rest of the form."""

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    request = ForeignKey(
        references=CitizenRequest, null=True, default=None, index=True, on_delete=OnDelete.cascade
    )
    upload_group = Varchar(length=64, index=True)
    phone = Varchar(length=16, default="")
    stage = Varchar(length=8, choices=AttachmentStage, default=AttachmentStage.before)
    content_type = Varchar(length=64)
    original_name = Varchar(length=200, default="")
    size = Integer()
    storage_key = Varchar(length=200)
    preview_key = Varchar(length=200, default="")
    sha256 = Varchar(length=64)
    uploaded_by = ForeignKey(
        references=StaffUser, null=True, default=None, on_delete=OnDelete.set_null
    )
    created_at = Timestamptz()
