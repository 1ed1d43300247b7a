from piccolo.columns import ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.office import Office


class UploadRefusal(Table):
    """An upload the portal refused (bad type, too big, a decompression bomb): it still cost
    the server work, so it counts toward the phone's upload quota like a kept file does."""

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    phone = Varchar(length=16, index=True)
    upload_group = Varchar(length=64, default="")
    reason = Varchar(length=32, default="")
    created_at = Timestamptz(index=True)
