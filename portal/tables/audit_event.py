from piccolo.columns import JSON, ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import Office


class AuditEvent(Table):
    """Append-only record of staff actions: sign-ins, views of personal data, every change.

    The code only ever inserts here; nothing updates or deletes a row.
    """

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz(index=True)
    actor = Varchar(length=64, index=True)
    """The staff username (or the ``portal`` command's actor name)."""
    action = Varchar(length=48, index=True)
    request = ForeignKey(
        references=CitizenRequest,
        null=True,
        default=None,
        index=True,
        on_delete=OnDelete.restrict,
    )
    """Restrict: an audited request cannot be deleted out from under its audit trail."""
    client_ip = Varchar(length=64, default="")
    details = JSON(default="{}")
