"""Ready notes per status: seeded once, offered on the request page to fill the note."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.settings import Settings
from portal.staff.reply_templates import DEFAULT_TEMPLATES, seed_default_reply_templates
from portal.tables.reply_template import ReplyTemplate
from tests.conftest import fresh, html
from tests.staff.helpers import Clock, RunDb, file_direct, make_staff, sign_in


def test_seeding_adds_the_default_templates_once() -> None:
    expected = json.loads(DEFAULT_TEMPLATES.read_text(encoding="utf-8"))
    assert fresh(seed_default_reply_templates()) == len(expected)
    assert fresh(seed_default_reply_templates()) == 0
    rows = fresh(ReplyTemplate.select().order_by(ReplyTemplate.id).run())
    assert [(r["status"], r["title"]) for r in rows] == [
        (t["status"], t["title"]) for t in expected
    ]


def test_a_broken_file_saves_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "templates.json"
    broken.write_text(
        json.dumps(
            [
                {"status": "in_progress", "title": "ok", "text": "ok"},
                {"status": "done", "title": "bad", "text": "bad"},
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(ValueError):
        fresh(seed_default_reply_templates(broken))
    assert fresh(ReplyTemplate.count().run()) == 0


def test_request_page_offers_the_templates_with_their_status(
    client: TestClient[Litestar], run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    run_db(seed_default_reply_templates)
    number = file_direct(run_db, "+66800000390").number
    sign_in(client, make_staff(run_db, settings, "somchai"), clock)
    page = html(client.get(f"/staff/requests/{number}"))
    select = page.select_one("select#template")
    assert select is not None
    assert select["data-fills"] == "status-note"
    options: list[Any] = select.select("option[data-for-status]")
    expected = json.loads(DEFAULT_TEMPLATES.read_text(encoding="utf-8"))
    assert [(o["data-for-status"], o["value"]) for o in options] == [
        (t["status"], t["text"]) for t in expected
    ]
