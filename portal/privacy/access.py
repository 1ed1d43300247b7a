"""Staff reading protected personal data: revealing a request's citizen ID, and the
data-subject access export (PDPA section 30) of everything held about one phone number.

Both are reads of personal data, so both write an audit row; neither changes anything else.
Both are the office's own: each office is the controller of what it collected, so every query
here is scoped to the staff member's office, and the export of a phone lists only what this
office holds about it (the same phone's requests at another office are that office's to give).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Count

from portal.catalogue.service import load_fields
from portal.db import json_object
from portal.kernel import audit
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.phone import ThaiMobile
from portal.privacy.citizen_ids import CitizenIdVault, SealedIdsUnreadable
from portal.tables.attachment import Attachment
from portal.tables.citizen_request import CitizenRequest
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage
from portal.tables.staff_note import StaffNote

EXPORT_FORMAT = "oss-local/personal-data-export/1"


@dataclass(frozen=True)
class RevealedIds:
    number: str
    ids: list[tuple[str, str]]
    """(field label, the full 13 digits), in the form's order."""
    unreadable: bool = False
    """Sealed with another ``PORTAL_SECRET_KEY``: the IDs are there but cannot be opened."""


async def reveal_citizen_ids(
    number: str, vault: CitizenIdVault, *, office: OfficeRef, actor: str, client_ip: str
) -> RevealedIds | None:
    """The full IDs of one request, for staff who need them (a form to fill elsewhere)."""
    row = (
        await CitizenRequest.select(
            CitizenRequest.id,
            CitizenRequest.citizen_id_encrypted,
            CitizenRequest.service.form_fields.as_alias("service_fields"),
        )
        .where(CitizenRequest.number == number, CitizenRequest.office == office.id)
        .first()
    )
    if row is None:
        return None
    try:
        values = vault.open(row["citizen_id_encrypted"])
    except SealedIdsUnreadable:
        # Still audited: someone asked for the ID, even though nothing could be shown.
        await audit.record(
            office_id=office.id,
            actor=actor,
            action="reveal_citizen_id",
            client_ip=client_ip,
            request_id=int(row["id"]),
            details={"fields": [], "unreadable": True},
        )
        return RevealedIds(number, [], unreadable=True)
    labels = {f.name: f.label for f in load_fields(row["service_fields"])}
    await audit.record(
        office_id=office.id,
        actor=actor,
        action="reveal_citizen_id",
        client_ip=client_ip,
        request_id=int(row["id"]),
        details={"fields": sorted(values)},
    )
    return RevealedIds(number, [(labels.get(name, name), value) for name, value in values.items()])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _sms_record(message: dict[str, Any], phone: str) -> dict[str, Any]:
    """One SMS of a request. One sent to another number (before staff moved the request to
    this phone) belongs to whoever had that number: only that it was sent is told."""
    record = {
        **message,
        "created_at": _iso(message["created_at"]),
        "sent_at": _iso(message["sent_at"]),
        "delivered_at": _iso(message["delivered_at"]),
    }
    if message["to_phone"] and message["to_phone"] != phone:
        del record["to_phone"], record["text"]
        record["sent_to_another_number"] = True
    return record


async def _request_rows(request_id: int, office_id: int) -> dict[str, list[dict[str, Any]]]:
    """What hangs off one request: its timeline, notes, messages and files, oldest first."""
    events = (
        await RequestEvent.select(
            RequestEvent.status,
            RequestEvent.actor,
            RequestEvent.public_note,
            RequestEvent.created_at,
        )
        .where(RequestEvent.request == request_id, RequestEvent.office == office_id)
        .order_by(RequestEvent.id)
    )
    notes = (
        await StaffNote.select(
            StaffNote.text, StaffNote.created_at, StaffNote.author.username.as_alias("author")
        )
        .where(StaffNote.request == request_id, StaffNote.office == office_id)
        .order_by(StaffNote.id)
    )
    messages = (
        await SmsMessage.select(
            SmsMessage.id,
            SmsMessage.purpose,
            SmsMessage.state,
            SmsMessage.to_phone,
            SmsMessage.text,
            SmsMessage.created_at,
            SmsMessage.sent_at,
            SmsMessage.delivered_at,
        )
        .where(SmsMessage.request == request_id, SmsMessage.office == office_id)
        .order_by(SmsMessage.id)
    )
    files = (
        await Attachment.select(
            Attachment.stage,
            Attachment.content_type,
            Attachment.original_name,
            Attachment.size,
            Attachment.sha256,
            Attachment.created_at,
        )
        .where(Attachment.request == request_id, Attachment.office == office_id)
        .order_by(Attachment.id)
    )
    return {"events": events, "notes": notes, "messages": messages, "files": files}


async def _request_record(row: dict[str, Any], vault: CitizenIdVault, phone: str) -> dict[str, Any]:
    answers = json_object(row["answers"])
    try:
        citizen_ids = vault.open(row["citizen_id_encrypted"])
        unreadable = False
    except SealedIdsUnreadable:
        # The answers keep the masked form; the export says why the full one is missing.
        citizen_ids, unreadable = {}, True
    held = await _request_rows(int(row["id"]), int(row["office"]))
    return {
        "number": row["number"],
        "service": row["service_name"],
        "status": row["status"],
        "phone": row["phone"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "anonymised_at": _iso(row["anonymised_at"]),
        "answers": {**answers, **citizen_ids},
        "citizen_ids": citizen_ids,
        "citizen_ids_undecryptable": unreadable,
        "location": {
            "lat": row["location_lat"],
            "lng": row["location_lng"],
            "text": row["location_text"],
        },
        "timeline": [{**e, "created_at": _iso(e["created_at"])} for e in held["events"]],
        "internal_notes": [{**n, "created_at": _iso(n["created_at"])} for n in held["notes"]],
        "sms": [_sms_record(m, phone) for m in held["messages"]],
        "attachments": [{**f, "created_at": _iso(f["created_at"])} for f in held["files"]],
    }


async def _otp_summary(phone: str, office_id: int) -> dict[str, Any]:
    rows = (
        await OtpChallenge.select(OtpChallenge.purpose, Count(OtpChallenge.id, alias="n"))
        .where(OtpChallenge.phone == phone, OtpChallenge.office == office_id)
        .group_by(OtpChallenge.purpose)
    )
    return {
        "note": "codes are never stored, only how many were sent (kept for the sending limits)",
        "by_purpose": {row["purpose"]: int(row["n"]) for row in rows},
    }


async def personal_data_for_phone(
    phone: str, vault: CitizenIdVault, *, office: OfficeRef
) -> dict[str, Any]:
    """Everything ``office`` holds about ``phone`` (E.164): a plain, self-describing record."""
    rows = (
        await CitizenRequest.select(
            *CitizenRequest.all_columns(),
            CitizenRequest.service.name.as_alias("service_name"),
        )
        .where(CitizenRequest.phone == phone, CitizenRequest.office == office.id)
        .order_by(CitizenRequest.id)
    )
    other_sms = (
        await SmsMessage.select(
            SmsMessage.purpose, SmsMessage.state, SmsMessage.text, SmsMessage.created_at
        )
        .where(
            SmsMessage.to_phone == phone,
            SmsMessage.request.is_null(),
            SmsMessage.office == office.id,
        )
        .order_by(SmsMessage.id)
    )
    return {
        "format": EXPORT_FORMAT,
        "controller": office.name,
        "generated_at": utcnow().isoformat(),
        "phone": phone,
        "notes": {
            "internal_notes": "office records written by staff, included because they are "
            "about this person",
            "otp_sms": "one-time codes are blanked once sent",
        },
        "requests": [await _request_record(row, vault, phone) for row in rows],
        "sms_without_request": [{**m, "created_at": _iso(m["created_at"])} for m in other_sms],
        "otp_codes_sent": await _otp_summary(phone, office.id),
    }


async def export_personal_data(
    phone: str, vault: CitizenIdVault, *, office: OfficeRef, actor: str, client_ip: str
) -> tuple[str, int]:
    """The export as UTF-8 JSON text and how many requests it holds; audited."""
    data = await personal_data_for_phone(phone, vault, office=office)
    await audit.record(
        office_id=office.id,
        actor=actor,
        action="export_personal_data",
        client_ip=client_ip,
        # Masked: the audit log is never purged, so it must not keep whole numbers.
        details={"phone": ThaiMobile(phone).masked, "requests": len(data["requests"])},
    )
    return json.dumps(data, ensure_ascii=False, indent=2), len(data["requests"])
