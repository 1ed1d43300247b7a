"""The office inbox: filter, search, count, page, mark overdue, export; every query is of the
request's office only (``_where`` starts with it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from piccolo.columns.combination import WhereRaw
from piccolo.engine.postgres import PostgresEngine
from piccolo.query.functions.aggregate import Count

from portal.catalogue.citizen_id import is_valid_citizen_id, normalise_citizen_id
from portal.db import current_engine, json_object
from portal.kernel import audit
from portal.kernel.clock import BANGKOK, utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.phone import PhoneError, parse_thai_mobile
from portal.kernel.request_numbers import parse_request_number
from portal.privacy.citizen_ids import CitizenIdVault, mask
from portal.sms.health import NEARLY_FULL
from portal.staff.accounts import Actor
from portal.tables.citizen_request import CitizenRequest, RequestStatus

PAGE_SIZE = 25
OPEN_STATUSES = (RequestStatus.received, RequestStatus.in_progress)
MAX_QUERY_LENGTH = 100
SUBJECT_FIELDS = ("subject", "topic", "problem", "information")
"""The first of these a service's form has gives the inbox its one-line summary."""


@dataclass(frozen=True)
class InboxFilter:
    status: str = ""
    service_slug: str = ""
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""
    page: int = 1


@dataclass(frozen=True)
class InboxRow:
    number: str
    service_name: str
    status: str
    phone: str
    name: str
    subject: str
    created_at: datetime
    assigned_to: str
    overdue: bool
    due_on: date


@dataclass
class InboxPage:
    rows: list[InboxRow] = field(default_factory=list)
    has_next: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def _answers_contain(text: str) -> Any:
    """What the citizen typed is a JSON column: PostgreSQL needs it cast to text to match."""
    if isinstance(current_engine(), PostgresEngine):
        return WhereRaw("CAST(answers AS TEXT) ILIKE {}", f"%{text}%")
    return WhereRaw("answers LIKE {}", f"%{text}%")


def _where(filters: InboxFilter, vault: CitizenIdVault, office: OfficeRef) -> list[Any]:
    where: list[Any] = [CitizenRequest.office == office.id]
    if filters.status in {s.value for s in RequestStatus}:
        where.append(CitizenRequest.status == filters.status)
    if filters.service_slug:
        where.append(CitizenRequest.service.slug == filters.service_slug)
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, BANGKOK)
        where.append(CitizenRequest.created_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, BANGKOK)
        where.append(CitizenRequest.created_at < end)
    # LIKE wildcards typed by staff are taken literally by dropping them.
    text = "".join(ch for ch in filters.query.strip()[:MAX_QUERY_LENGTH] if ch not in "%_\\\x00")
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions = [
            CitizenRequest.number.ilike(f"%{text}%"),
            _answers_contain(text),
        ]
        citizen_id_digests = vault.search_digests(text)
        if citizen_id_digests:
            # Citizen IDs are sealed, not in ``answers``: a whole ID finds its request by hash
            # (under every configured key, for requests filed before a key change).
            conditions.append(CitizenRequest.citizen_id_hash.is_in(citizen_id_digests))
        number = parse_request_number(text)
        if number:
            # 69482913, as people read a number out, finds 69-482913.
            conditions.append(CitizenRequest.number == number)
        if len(digits) >= 4:
            # A phone typed as 081-234-5678 or 0812345678 matches +66812345678.
            conditions.append(CitizenRequest.phone.ilike(f"%{digits.lstrip('0')}%"))
        combined: Any = conditions[0]
        for condition in conditions[1:]:
            combined = combined | condition
        where.append(combined)
    return where


def _row(row: dict[str, Any], now: datetime) -> InboxRow:
    answers = json_object(row["answers"])
    name = " ".join(
        part for part in (answers.get("first_name", ""), answers.get("last_name", "")) if part
    )
    due = row["created_at"] + timedelta(days=int(row["target_days"]))
    return InboxRow(
        number=row["number"],
        service_name=row["service_name"],
        status=row["status"],
        phone=row["phone"],
        name=name,
        subject=next((answers[key] for key in SUBJECT_FIELDS if answers.get(key)), ""),
        created_at=row["created_at"],
        assigned_to=row["assigned_name"] or row["assigned_username"] or "",
        overdue=row["status"] in OPEN_STATUSES and due < now,
        due_on=due.astimezone(BANGKOK).date(),
    )


_COLUMNS = (
    CitizenRequest.number,
    CitizenRequest.status,
    CitizenRequest.phone,
    CitizenRequest.answers,
    CitizenRequest.created_at,
    CitizenRequest.service.name.as_alias("service_name"),
    CitizenRequest.service.target_days.as_alias("target_days"),
    CitizenRequest.assigned_to.display_name.as_alias("assigned_name"),
    CitizenRequest.assigned_to.username.as_alias("assigned_username"),
)


async def inbox_page(
    filters: InboxFilter, vault: CitizenIdVault, *, office: OfficeRef
) -> InboxPage:
    """``vault``: a whole citizen ID typed in the search finds its request by hash."""
    where = _where(filters, vault, office)
    page = max(filters.page, 1)
    query = (
        CitizenRequest.select(*_COLUMNS)
        .where(*where)
        .order_by(CitizenRequest.created_at, ascending=False)
    )
    rows = await query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    now = utcnow()
    counts_query = (
        CitizenRequest.select(CitizenRequest.status, Count(CitizenRequest.id, alias="n"))
        .where(CitizenRequest.office == office.id)
        .group_by(CitizenRequest.status)
    )
    counts = {row["status"]: int(row["n"]) for row in await counts_query}
    return InboxPage(
        rows=[_row(row, now) for row in rows[:PAGE_SIZE]],
        has_next=len(rows) > PAGE_SIZE,
        counts=counts,
    )


BUDGET_WARNING_SHARE = NEARLY_FULL
"""Warn staff once this share of the daily SMS limit is used (when the admins' SMS banner
says so too): codes stop at the limit."""


CSV_HEADER = (
    "เลขที่คำร้อง",
    "บริการ",
    "สถานะ",
    "วันที่ยื่น",
    "ครบกำหนด",
    "เกินกำหนด",
    "ชื่อ",
    "เรื่อง",
    "เบอร์โทรศัพท์",
    "ผู้รับผิดชอบ",
)


async def export_csv(
    filters: InboxFilter, vault: CitizenIdVault, *, office: OfficeRef
) -> tuple[str, int]:
    """Every matching row of ``office`` (not one page), UTF-8 with a BOM so Excel shows
    Thai."""
    where = _where(filters, vault, office)
    query = (
        CitizenRequest.select(*_COLUMNS)
        .where(*where)
        .order_by(CitizenRequest.created_at, ascending=False)
    )
    now = utcnow()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    count = 0
    for raw in await query:
        count += 1
        row = _row(raw, now)
        writer.writerow(
            (
                row.number,
                row.service_name,
                row.status,
                row.created_at.astimezone(BANGKOK).strftime("%Y-%m-%d %H:%M"),
                row.due_on.isoformat(),
                "yes" if row.overdue else "",
                _safe_cell(row.name),
                _safe_cell(row.subject),
                row.phone,
                _safe_cell(row.assigned_to),
            )
        )
    return "\ufeff" + buffer.getvalue(), count


def _safe_cell(value: str) -> str:
    """Citizens type these: never let Excel read one as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _masked_search(query: str) -> str:
    """The search text as the audit log may keep it: the audit log is never purged, so a
    whole citizen ID or phone number typed to find someone is kept masked."""
    text = query.strip()
    if is_valid_citizen_id(normalise_citizen_id(text)):
        return mask(text)
    try:
        return parse_thai_mobile(text).masked
    except PhoneError:
        return query


def _audited_filters(items: Iterable[tuple[str, Any]]) -> str:
    params = [
        (key, _masked_search(str(value)) if key == "q" else str(value))
        for key, value in items
        if key != "_csrf_token"
    ]
    return urlencode(params)[:500]


async def audited_export(
    filters: InboxFilter,
    vault: CitizenIdVault,
    actor: Actor,
    form_items: Iterable[tuple[str, Any]],
    *,
    office: OfficeRef,
) -> str:
    """``export_csv`` in ``actor``'s name: every matching citizen's name and phone leave the
    system, so it is audited like a view, with the filters as submitted (the search masked)."""
    content, row_count = await export_csv(filters, vault, office=office)
    await audit.record(
        office_id=office.id,
        actor=actor.username,
        action="export_csv",
        client_ip=actor.client_ip,
        details={"rows": row_count, "filters": _audited_filters(form_items)},
    )
    return content
