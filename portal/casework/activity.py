"""The retention clock: every piece of staff work on a request starts it again.

``CitizenRequest.updated_at`` is when a request last changed, and ``portal purge`` anonymises
a closed request only once that is older than the retention period. So every staff action
that changes a request (status, internal note, after photo, phone change, assignment) calls
``record_work`` in the transaction that writes it. Reads are not work: opening the request
page, revealing the citizen ID or exporting personal data are audited, but they leave the
clock alone (otherwise merely looking would keep personal data forever).

``record_work`` is an UPDATE of the request's row that also checks the row is not anonymised.
On PostgreSQL that takes the row's lock, the same lock purge's claim takes, so one of the two
waits for the other: either the work lands first and purge then finds the request changed
just now, or purge lands first and the work is refused (``record_work`` answers False).
On SQLite every write transaction is serialised anyway.
"""

from __future__ import annotations

from datetime import datetime

from portal.kernel.clock import utcnow
from portal.tables.citizen_request import CitizenRequest


async def record_work(request_id: int, now: datetime | None = None) -> bool:
    """Start the retention clock again; False when purge has already anonymised the request
    (then the caller must refuse the work: purge never looks at a request again)."""
    touched = (
        await CitizenRequest.update({CitizenRequest.updated_at: now or utcnow()})
        .where(CitizenRequest.id == request_id, CitizenRequest.anonymised_at.is_null())
        .returning(CitizenRequest.id)
    )
    return bool(touched)
