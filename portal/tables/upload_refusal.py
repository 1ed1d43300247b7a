from piccolo.columns import Serial, Timestamptz, Varchar
from piccolo.table import Table


class UploadRefusal(Table):
    """An upload the portal refused (bad type, too big, a decompression bomb): it still cost
    the server work, so it counts toward the phone's upload quota like a kept file does."""

    id = Serial(primary_key=True)
    phone = Varchar(length=16, index=True)
    upload_group = Varchar(length=64, default="")
    reason = Varchar(length=32, default="")
    created_at = Timestamptz(index=True)
