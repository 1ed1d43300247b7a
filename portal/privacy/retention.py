"""Retention (PDPA section 37(3)): closed requests lose their personal data once the
retention period has passed since their last change; what is left counts for statistics.

"Last change" is the last staff work of any kind: a status change, an internal note, an after
photo, a phone change, an assignment (each restarts ``updated_at``, see
``portal.casework.activity``), and, checked again inside purge's transaction, any audited
staff action on the request other than a read (opening it, revealing the citizen ID).

``purge`` anonymises rather than deletes: the request number, service, status and timeline
(statuses, times, who moved it) stay, so the office's figures and the audit trail (which
refers to requests) hold. Everything that can name or reach the person goes:

- the phone, the answers, the sealed citizen ID and its hash, the location;
- attached files (rows and stored files);
- the phone and text of the request's SMS (a receipt carries the tracking link);
- the tracking token is replaced by a random one nobody has, so the old link stops working;
- the free text staff wrote about the case: public notes on the timeline and internal
  notes (their rows, authors and times stay, to show work was done). Staff write names and
  ID numbers in them, so keeping them would defeat the purge.

The audit log is not touched: it is the record of who did what, append-only by design.

Also gone: OTP challenges past the longest sending-limit window (they only feed the
limits), SMS sent to no request (codes) past that window, and staff sign-in attempts past
their throttling window (a month of them is kept for investigating break-in attempts).

Each request is anonymised in its own transaction with its audit row, so a crash halfway
leaves every request either untouched or done; running again finishes the rest.

Each office sets its own retention (``OfficeRef.retention_days``, the platform's
``PORTAL_RETENTION_DAYS`` where it set none): ``purge_every_office`` runs ``purge`` once per
office, and every query of a run is scoped to that office, its audit rows written to it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from portal.casework.case import request_lock
from portal.catalogue.service import load_fields
from portal.db import json_object, write_transaction
from portal.db_engines import office_scope
from portal.kernel import audit
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeDirectory, OfficeRef
from portal.kernel.tracking_links import new_tracking_token, token_digest
from portal.privacy.citizen_ids import CitizenIdVault
from portal.settings import Settings
from portal.tables.attachment import Attachment
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest, RequestStatus
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage, SmsState
from portal.tables.staff_note import StaffNote
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt

log = logging.getLogger(__name__)

ACTOR = "system/purge"
CLOSED = (RequestStatus.completed, RequestStatus.rejected, RequestStatus.cancelled)
OTP_KEEP = timedelta(days=2)
"""Past the longest OTP window (24 h of wrong tries and sends): the rows no longer count."""
SIGN_IN_KEEP = timedelta(days=30)
"""Throttling looks back 30 minutes; a month is kept to investigate break-in attempts."""
READS = frozenset({"view_request", "reveal_citizen_id"})
"""Audited reads of a request: looking is not work, so they do not keep its data longer."""
SETTLED = (SmsState.sent, SmsState.delivered, SmsState.failed, SmsState.suppressed)


class FileStore(Protocol):
    """What purge needs of an attachment store (``portal.attachments.storage``)."""

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class _Anonymised:
    file_keys: list[str]
    attachments: int
    sms: int


@dataclass
class PurgeReport:
    retention_days: int
    cutoff: datetime
    dry_run: bool
    office: str = ""
    """The office's slug (``portal purge`` prints one report per office)."""
    numbers: list[str] = field(default_factory=list)
    attachments: int = 0
    sms_blanked: int = 0
    otp_challenges: int = 0
    sms_without_request: int = 0
    sign_in_attempts: int = 0
    ids_sealed: int = 0
    """Requests filed before citizen IDs were sealed, whose IDs this run moved out of
    ``answers``."""

    @property
    def requests(self) -> int:
        return len(self.numbers)

    def as_details(self) -> dict[str, Any]:
        return {
            "retention_days": self.retention_days,
            "cutoff": self.cutoff.isoformat(),
            "requests": self.requests,
            "attachments": self.attachments,
            "sms_blanked": self.sms_blanked,
            "otp_challenges": self.otp_challenges,
            "sms_without_request": self.sms_without_request,
            "sign_in_attempts": self.sign_in_attempts,
            "ids_sealed": self.ids_sealed,
        }


def _due(cutoff: datetime, office_id: int) -> list[Any]:
    return [
        CitizenRequest.office == office_id,
        CitizenRequest.status.is_in([status.value for status in CLOSED]),
        CitizenRequest.updated_at < cutoff,
        CitizenRequest.anonymised_at.is_null(),
    ]


async def _recent_work(request_id: int, cutoff: datetime, office_id: int) -> bool:
    """Any audited staff action on the request since the cutoff, reads aside.

    Every staff change is audited in the transaction that makes it, so this catches work
    through a path that forgot to restart the clock (``portal.casework.activity``) too: the
    audit log, not one column, is the record of what staff did.
    """
    return bool(
        await AuditEvent.exists().where(
            AuditEvent.office == office_id,
            AuditEvent.request == request_id,
            AuditEvent.created_at >= cutoff,
            AuditEvent.action.not_in(list(READS)),
        )
    )


async def _claim(request_id: int, now: datetime, cutoff: datetime, office_id: int) -> bool:
    """Blank the request's own row if it is still due.

    The claim is one UPDATE whose WHERE is the whole rule. On PostgreSQL it takes the row's
    lock, which every piece of staff work takes too (``record_work``): work that committed
    first makes it match nothing (changed since the cutoff); work that comes after finds the
    request anonymised and is refused. Never both."""
    token = new_tracking_token()
    claimed = (
        await CitizenRequest.update(
            {
                CitizenRequest.phone: "",
                CitizenRequest.answers: "{}",
                CitizenRequest.citizen_id_encrypted: "",
                CitizenRequest.citizen_id_hash: "",
                CitizenRequest.location_lat: None,
                CitizenRequest.location_lng: None,
                CitizenRequest.location_text: "",
                CitizenRequest.tracking_token: token,
                CitizenRequest.tracking_token_hash: token_digest(token),
                CitizenRequest.anonymised_at: now,
            }
        )
        .where(CitizenRequest.id == request_id, *_due(cutoff, office_id))
        .returning(CitizenRequest.id)
    )
    return bool(claimed)


async def _blank_messages(request_id: int, now: datetime, office_id: int) -> int:
    """The request's SMS emptied; answers how many it had."""
    mine = [SmsMessage.office == office_id, SmsMessage.request == request_id]
    sms = await SmsMessage.count().where(*mine)
    # Never send a blanked message: one still waiting (a gateway down for years) stops.
    await SmsMessage.update(
        {
            SmsMessage.state: SmsState.failed,
            SmsMessage.failed_at: now,
            SmsMessage.next_attempt_at: None,
            SmsMessage.last_error: "purged",
        }
    ).where(*mine, SmsMessage.state.is_in([SmsState.queued.value, SmsState.sending.value]))
    await SmsMessage.update({SmsMessage.to_phone: "", SmsMessage.text: ""}).where(*mine)
    return int(sms)


async def _anonymise(
    request_id: int, number: str, now: datetime, cutoff: datetime, office_id: int
) -> _Anonymised | None:
    """One request, in one transaction; None when it is no longer due."""
    async with request_lock(number):
        # Re-checked inside the transaction, all of it: staff may have reopened it a moment
        # ago, or reopened and closed it again (closed, but changed since the cutoff), or
        # added a note or a photo to it since the run listed it.
        if await _recent_work(request_id, cutoff, office_id):
            return None
        if not await _claim(request_id, now, cutoff, office_id):
            return None
        own_files = [Attachment.office == office_id, Attachment.request == request_id]
        files = await Attachment.select(Attachment.storage_key, Attachment.preview_key).where(
            *own_files
        )
        keys = [key for row in files for key in (row["storage_key"], row["preview_key"]) if key]
        await Attachment.delete().where(*own_files)
        sms = await _blank_messages(request_id, now, office_id)
        await RequestEvent.update({RequestEvent.public_note: ""}).where(
            RequestEvent.office == office_id, RequestEvent.request == request_id
        )
        await StaffNote.update({StaffNote.text: ""}).where(
            StaffNote.office == office_id, StaffNote.request == request_id
        )
        await audit.record(
            office_id=office_id,
            actor=ACTOR,
            action="anonymise_request",
            request_id=request_id,
            details={"attachments": len(files), "sms": sms},
        )
    return _Anonymised(keys, len(files), sms)


async def _housekeeping(report: PurgeReport, now: datetime, office_id: int) -> None:
    """Rows of this office that only ever served the limits and throttles, past their
    windows."""
    otp_cutoff = now - OTP_KEEP
    stale_otp = [
        OtpChallenge.office == office_id,
        OtpChallenge.created_at < otp_cutoff,
        OtpChallenge.expires_at < now,
    ]
    stale_sms = [
        SmsMessage.office == office_id,
        SmsMessage.request.is_null(),
        SmsMessage.created_at < otp_cutoff,
        SmsMessage.state.is_in([state.value for state in SETTLED]),
        SmsMessage.to_phone != "",
    ]
    stale_sign_ins = [
        StaffSignInAttempt.office == office_id,
        StaffSignInAttempt.created_at < now - SIGN_IN_KEEP,
    ]
    report.otp_challenges = int(await OtpChallenge.count().where(*stale_otp))
    report.sms_without_request = int(await SmsMessage.count().where(*stale_sms))
    report.sign_in_attempts = int(await StaffSignInAttempt.count().where(*stale_sign_ins))
    if report.dry_run:
        return
    async with write_transaction():
        await OtpChallenge.delete().where(*stale_otp)
        await SmsMessage.update({SmsMessage.to_phone: "", SmsMessage.text: ""}).where(*stale_sms)
        await StaffSignInAttempt.delete().where(*stale_sign_ins)


async def seal_plain_ids(vault: CitizenIdVault, *, office_id: int, dry_run: bool) -> int:
    """Requests filed before this version kept citizen IDs in ``answers``: seal them now."""
    rows = await CitizenRequest.select(
        CitizenRequest.id,
        CitizenRequest.answers,
        CitizenRequest.service.form_fields.as_alias("service_fields"),
    ).where(
        CitizenRequest.office == office_id,
        CitizenRequest.citizen_id_encrypted == "",
        CitizenRequest.anonymised_at.is_null(),
    )
    sealed = 0
    for row in rows:
        answers = json_object(row["answers"])
        split = vault.split(load_fields(row["service_fields"]), answers)
        if not split.citizen_id_encrypted:
            continue
        sealed += 1
        if dry_run:
            continue
        async with write_transaction():
            await CitizenRequest.update(
                {
                    CitizenRequest.answers: json.dumps(split.answers, ensure_ascii=False),
                    CitizenRequest.citizen_id_encrypted: split.citizen_id_encrypted,
                    CitizenRequest.citizen_id_hash: split.citizen_id_hash,
                }
            ).where(
                CitizenRequest.id == row["id"],
                CitizenRequest.office == office_id,
                CitizenRequest.citizen_id_encrypted == "",
            )
    return sealed


async def purge_every_office(
    settings: Settings,
    *,
    store: FileStore | None,
    dry_run: bool = False,
    vault: CitizenIdVault | None = None,
) -> list[PurgeReport]:
    """``portal purge``: every office, each with its own retention days, one report each
    (on PostgreSQL each run under its office's row security too, ``office_scope``)."""
    reports = []
    for office in await OfficeDirectory(settings).all():
        with office_scope(office.id):
            reports.append(await purge(office=office, store=store, dry_run=dry_run, vault=vault))
    return reports


async def purge(
    *,
    office: OfficeRef,
    store: FileStore | None,
    dry_run: bool = False,
    vault: CitizenIdVault | None = None,
    retention_days: int | None = None,
) -> PurgeReport:
    """Anonymise ``office``'s closed requests untouched for its retention days (or
    ``retention_days``, for tests); open ones never.

    With ``vault``, citizen IDs still in plain ``answers`` (filed before they were sealed) are
    sealed too. ``dry_run`` counts what would go and changes nothing (not even the audit
    log). Files are
    deleted after their rows are committed: a crash in between leaves an orphan file, never
    a row pointing at nothing.
    """
    now = utcnow()
    days = office.retention_days if retention_days is None else retention_days
    report = PurgeReport(days, now - timedelta(days=days), dry_run, office=office.slug)
    due = (
        await CitizenRequest.select(CitizenRequest.id, CitizenRequest.number)
        .where(*_due(report.cutoff, office.id))
        .order_by(CitizenRequest.id)
    )
    if dry_run:
        return await _dry_run(report, due, now, office.id, vault)
    for row in due:
        done = await _anonymise(int(row["id"]), row["number"], now, report.cutoff, office.id)
        if done is None:
            continue
        report.numbers.append(row["number"])
        report.sms_blanked += done.sms
        report.attachments += done.attachments
        for key in done.file_keys:
            _delete_file(store, key)
    await _housekeeping(report, now, office.id)
    if vault is not None:
        report.ids_sealed = await seal_plain_ids(vault, office_id=office.id, dry_run=False)
    await audit.record(
        office_id=office.id, actor=ACTOR, action="purge", details=report.as_details()
    )
    return report


async def _dry_run(
    report: PurgeReport,
    due: list[dict[str, Any]],
    now: datetime,
    office_id: int,
    vault: CitizenIdVault | None,
) -> PurgeReport:
    """What ``purge`` would do, counted; nothing changes."""
    due = [row for row in due if not await _recent_work(int(row["id"]), report.cutoff, office_id)]
    report.numbers = [row["number"] for row in due]
    report.attachments = int(
        await Attachment.count().where(
            Attachment.office == office_id,
            Attachment.request.is_in([int(row["id"]) for row in due] or [-1]),
        )
    )
    await _housekeeping(report, now, office_id)
    if vault is not None:
        report.ids_sealed = await seal_plain_ids(vault, office_id=office_id, dry_run=True)
    return report


def _delete_file(store: FileStore | None, key: str) -> None:
    if store is None:
        log.warning("no attachment store configured: file %s left for manual deletion", key)
        return
    try:
        store.delete(key)
    except OSError:
        # The row is gone already; a file that cannot be deleted now is logged for an
        # operator (the store's own delete already ignores files that are missing).
        log.exception("could not delete attachment file %s", key)
