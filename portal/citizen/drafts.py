"""Server-side drafts of a form not yet sent: a reload, a dropped connection or a long phone
call keeps what the citizen typed (issue 17).

A draft belongs to one verification (the code that passed), one service, the verified phone
and the browser the form key was issued to: every form key issued under that verification in
that browser restores it, nothing else does (another browser with the same phone, another
phone, a consumed verification). Never in the browser's storage: phones are shared.

Kept: typed answers and the typed place, each cut to its field's limit; never citizen IDs
(not kept in the clear, and quick to type again) and never files (pending uploads are kept
per form key already). Deleted in the filing's transaction (portal/citizen/service.py) and
after ``DRAFT_MAX_AGE``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from portal.catalogue.fields import FormField
from portal.catalogue.location import PART_MAX, PARTS, input_name
from portal.db import write_transaction
from portal.kernel.offices import OfficeRef
from portal.tables.form_draft import FormDraft

DRAFT_MAX_AGE = timedelta(hours=24)
DRAFT_MAX_BYTES = 20 * 1024
"""The draft route's request body bound (answers, key and CSRF token, URL-encoded): a form's
text fits many times over; beyond it the route answers 413 in Thai."""
COORDINATE_MAX = 24


def browser_digest(browser: str) -> str:
    return hashlib.sha256(f"form-draft:{browser}".encode()).hexdigest()


def draft_inputs(fields: list[FormField]) -> dict[str, int]:
    """The inputs a draft keeps, each with its length bound."""
    kept: dict[str, int] = {}
    for form_field in fields:
        if form_field.kind in ("text", "textarea", "select"):
            kept[form_field.name] = form_field.limit
        elif form_field.kind == "location":
            for part in PARTS:
                kept[input_name(form_field.name, part)] = PART_MAX
            for part in ("lat", "lng"):
                kept[input_name(form_field.name, part)] = COORDINATE_MAX
    return kept


def draft_answers(fields: list[FormField], raw: Mapping[str, str]) -> dict[str, str]:
    """What of ``raw`` a draft keeps: known inputs only, each cut to its limit; never checked
    for completeness (a draft is half a form)."""
    answers = {}
    for name, limit in draft_inputs(fields).items():
        value = raw.get(name, "")
        if isinstance(value, str) and value:
            answers[name] = value.replace("\x00", "")[:limit]
    return answers


async def save_draft(
    *,
    office: OfficeRef,
    verification: int,
    service: int,
    phone: str,
    browser: str,
    answers: Mapping[str, str],
    now: datetime,
) -> None:
    """Replace this verification's draft of this service (one row, whatever the browser);
    the draft is the office's, like the request it becomes."""
    text = json.dumps(dict(answers), ensure_ascii=False)
    async with write_transaction(serialize=f"draft:{verification}"):
        await FormDraft.delete().where(
            FormDraft.office == office.id,
            FormDraft.verification == verification,
            FormDraft.service == service,
        )
        await FormDraft(
            office=office.id,
            verification=verification,
            service=service,
            phone=phone,
            browser_hash=browser_digest(browser),
            answers=text,
            updated_at=now,
        ).save()


async def load_draft(
    *,
    office: OfficeRef,
    verification: int,
    service: int,
    phone: str,
    browser: str,
    now: datetime,
) -> dict[str, str]:
    """The office's draft of this verification, service, phone and browser, younger than a
    day; {}."""
    row = (
        await FormDraft.select(FormDraft.answers)
        .where(
            FormDraft.office == office.id,
            FormDraft.verification == verification,
            FormDraft.service == service,
            FormDraft.phone == phone,
            FormDraft.browser_hash == browser_digest(browser),
            FormDraft.updated_at > now - DRAFT_MAX_AGE,
        )
        .order_by(FormDraft.updated_at, ascending=False)
        .first()
    )
    if row is None:
        return {}
    try:
        data = json.loads(row["answers"])
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(name): str(value) for name, value in data.items() if isinstance(value, str)}


async def clean_stale_drafts(now: datetime, max_age: timedelta = DRAFT_MAX_AGE) -> int:
    """Drafts not touched for ``max_age``, at every office: for ``portal attachments clean``
    (hourly, platform-wide like the other clean-ups)."""
    rows = (
        await FormDraft.delete().where(FormDraft.updated_at < now - max_age).returning(FormDraft.id)
    )
    return len(rows)
