"""Ready notes to the citizen per status, seeded on first start like the catalogue."""

from __future__ import annotations

import json
from pathlib import Path

from portal.db import write_transaction
from portal.tables.citizen_request import RequestStatus
from portal.tables.reply_template import ReplyTemplate

DEFAULT_TEMPLATES = Path(__file__).resolve().parent / "default_reply_templates.json"


async def seed_default_reply_templates(path: Path = DEFAULT_TEMPLATES) -> int:
    if await ReplyTemplate.count() > 0:
        return 0
    items = json.loads(path.read_text(encoding="utf-8"))
    for item in items:
        RequestStatus(item["status"])  # refuse a broken file before saving anything
    async with write_transaction():
        for item in items:
            await ReplyTemplate(
                service=None, status=item["status"], title=item["title"], text=item["text"]
            ).save()
    return len(items)
