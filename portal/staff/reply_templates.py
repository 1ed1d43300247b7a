"""Ready notes to the citizen per status: seeded on first start like the catalogue (and for each
new office), offered on the request page, kept by the admins on the catalogue page. Each office
has its own: every function reads and writes one office's templates only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal.db import write_transaction
from portal.kernel import audit
from portal.kernel.offices import OfficeRef
from portal.staff.accounts import Actor
from portal.tables.citizen_request import RequestStatus
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.reply_template import ReplyTemplate

DEFAULT_TEMPLATES = Path(__file__).resolve().parent / "default_reply_templates.json"


async def seed_default_reply_templates(
    path: Path = DEFAULT_TEMPLATES, *, office_id: int = DEFAULT_OFFICE_ID
) -> int:
    if await ReplyTemplate.count().where(ReplyTemplate.office == office_id) > 0:
        return 0
    items = json.loads(path.read_text(encoding="utf-8"))
    for item in items:
        RequestStatus(item["status"])  # refuse a broken file before saving anything
    async with write_transaction():
        for item in items:
            await ReplyTemplate(
                office=office_id,
                service=None,
                status=item["status"],
                title=item["title"],
                text=item["text"],
            ).save()
    return len(items)


@dataclass(frozen=True)
class ReplyText:
    """A ready note as the request page offers it."""

    status: str
    title: str
    text: str


async def templates_for(service_id: int, *, office: OfficeRef) -> list[ReplyText]:
    """The active templates for one service's requests: its own and the office-wide ones."""
    rows = (
        await ReplyTemplate.select(ReplyTemplate.status, ReplyTemplate.title, ReplyTemplate.text)
        .where(
            ReplyTemplate.office == office.id,
            ReplyTemplate.active.eq(True),
            ReplyTemplate.service.is_null() | (ReplyTemplate.service == service_id),
        )
        .order_by(ReplyTemplate.id)
    )
    return [ReplyText(**row) for row in rows]


async def all_templates(*, office: OfficeRef) -> list[dict[str, Any]]:
    """Every template of ``office``, retired ones too, for the admins' catalogue page."""
    rows: list[dict[str, Any]] = (
        await ReplyTemplate.select()
        .where(ReplyTemplate.office == office.id)
        .order_by(ReplyTemplate.status)
        .order_by(ReplyTemplate.id)
    )
    return rows


async def add_template(
    status: str, title: str, text: str, actor: Actor, *, office: OfficeRef
) -> bool:
    """A new office-wide template, audited; False (nothing saved) unless ``status`` is a
    status and both title and text have words."""
    title, text = title.strip(), text.strip()
    if status not in {s.value for s in RequestStatus} or not title or not text:
        return False
    async with write_transaction():
        await ReplyTemplate(
            office=office.id, status=status, title=title[:200], text=text[:1000]
        ).save()
        await audit.record(
            office_id=office.id,
            actor=actor.username,
            action="template_saved",
            client_ip=actor.client_ip,
            details={"status": status, "title": title[:200]},
        )
    return True


async def retire_template(template_id: int, actor: Actor, *, office: OfficeRef) -> bool:
    """Offered no more; kept, so the catalogue page still lists it (audited). False (nothing
    changed, nothing audited) for no template of ``office`` with that id."""
    async with write_transaction():
        found = (
            await ReplyTemplate.update({ReplyTemplate.active: False})
            .where(ReplyTemplate.office == office.id, ReplyTemplate.id == template_id)
            .returning(ReplyTemplate.id)
        )
        if not found:
            return False
        await audit.record(
            office_id=office.id,
            actor=actor.username,
            action="template_retired",
            client_ip=actor.client_ip,
            details={"template_id": template_id},
        )
    return True
