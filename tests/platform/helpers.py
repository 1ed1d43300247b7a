"""Browsers on an office's host, and what the platform tests read back."""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from portal.tables.audit_event import AuditEvent
from portal.web.offices import offices_of
from tests.conftest import RunDb

Browser = TestClient[Litestar]


def browser_at(app: Litestar, client: Browser, base_url: str) -> Browser:
    """Another browser (own cookies) on ``base_url`` (another host, or ``.../o/<slug>``),
    talking to the app ``client`` runs (one app, one event loop)."""
    browser = TestClient(app=app, base_url=base_url)
    browser.blocking_portal = client.blocking_portal
    return browser


def reload_offices(app: Litestar) -> None:
    """The app's office directory reads the database again on its next lookup (a test wrote
    offices behind its back, within the directory's one-second window)."""
    offices_of(app).forget()


def audit_actions(run_db: RunDb, office_id: int) -> list[tuple[str, dict[str, Any]]]:
    async def read() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (
            await AuditEvent.select(AuditEvent.action, AuditEvent.details)
            .where(AuditEvent.office == office_id)
            .order_by(AuditEvent.id)
        )
        return rows

    return [
        (
            str(row["action"]),
            json.loads(row["details"]) if isinstance(row["details"], str) else row["details"],
        )
        for row in run_db(read)
    ]
