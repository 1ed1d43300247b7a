"""``/readyz`` says 503 when the database is gone, behind on migrations, or the SMS queue is
stuck, and 200 again once it is back (portal/ops/readiness.py). Real faults, no mocks:

- PostgreSQL: the server is stopped with the throwaway cluster's ``pg_ctl``
  (``scripts/with-postgres`` exports ``PORTAL_TEST_PG_CTL``);
- SQLite: the app's connections are closed (as at a restart) and the database's directory is
  moved away (a data disk that is not mounted), so no connection can be opened.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from piccolo.apps.migrations.tables import Migration

from portal.app import create_app
from portal.db import current_engine
from portal.kernel.clock import utcnow
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState
from tests.conftest import make_settings

PG_CTL = os.environ.get("PORTAL_TEST_PG_CTL", "")
ON_POSTGRES = os.environ.get("PORTAL_TEST_DATABASE_URL", "").startswith("postgres")


def _wait_until_ready(client: TestClient[Litestar], seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


@contextmanager
def database_stopped(run_db: Any, database: str) -> Iterator[None]:
    """PostgreSQL: the server stopped (``pg_ctl stop -m fast``), then started again. SQLite:
    the app's connections closed and the database's directory moved away, then put back."""
    if ON_POSTGRES:
        if not PG_CTL:
            pytest.fail("PORTAL_TEST_PG_CTL not set: run under scripts/with-postgres")
        subprocess.run([PG_CTL, "stop", "-m", "fast"], check=True, capture_output=True, timeout=90)  # noqa: S603
        try:
            yield
        finally:
            subprocess.run([PG_CTL, "start"], check=True, capture_output=True, timeout=90)  # noqa: S603
        return
    folder = Path(database.removeprefix("sqlite:///")).parent
    moved = folder.with_name(folder.name + "-unmounted")
    run_db(current_engine().close)  # type: ignore[attr-defined]
    folder.rename(moved)
    try:
        yield
    finally:
        moved.rename(folder)


def test_database_stopped_is_503_and_ready_again_when_it_is_back(
    client: TestClient[Litestar], run_db: Any, database: str
) -> None:
    assert client.get("/readyz").status_code == 200
    with database_stopped(run_db, database):
        started = time.monotonic()
        down = client.get("/readyz")
        waited = time.monotonic() - started
        alive = client.get("/healthz")
    assert down.status_code == 503
    assert down.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "migrations": "unknown", "sms_queue": "unknown"},
    }
    assert waited < 3, waited
    assert alive.status_code == 200  # liveness never asks the database
    back = _wait_until_ready(client)
    assert back.status_code == 200, back.text


def test_a_migration_not_applied_is_503(client: TestClient[Litestar], run_db: Any) -> None:
    newest = run_db(lambda: Migration.select().order_by(Migration.id, ascending=False).first())
    run_db(lambda: Migration.delete().where(Migration.id == newest["id"]))
    try:
        response = client.get("/readyz")
    finally:
        run_db(lambda: Migration.insert(Migration(**newest)))
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "pending"
    assert response.json()["checks"]["database"] == "ok"
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def gateway_client(tmp_path: Path, database: str) -> Iterator[TestClient[Litestar]]:
    """A portal with a real gateway configured and no dispatcher in the web process
    (``PORTAL_SMS_DISPATCH=worker``): what it queues waits for ``portal sms worker``."""
    settings = make_settings(
        tmp_path,
        database,
        PORTAL_SMS_BACKEND="webhook",
        PORTAL_SMS_WEBHOOK_URL="http://127.0.0.1:9/sms",
        PORTAL_SMS_WEBHOOK_SECRET="webhook-secret-0123456789abcdef",
        PORTAL_SMS_DISPATCH="worker",
    )
    with TestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        yield client


def _queue_due(client: TestClient[Litestar], due_ago: timedelta) -> None:
    now = utcnow()

    async def write() -> None:
        await SmsMessage(
            office=DEFAULT_OFFICE_ID,
            to_phone="+66800000961",
            sender="OSS-LOCAL",
            text="สถานะคำร้อง",
            purpose=SmsPurpose.status,
            state=SmsState.queued,
            backend="webhook",
            created_at=now - due_ago,
            next_attempt_at=now - due_ago,
            expires_at=now + timedelta(hours=4),
        ).save()

    assert client.blocking_portal is not None
    client.blocking_portal.call(write)


def test_a_queue_nobody_empties_is_503_after_ten_minutes(
    gateway_client: TestClient[Litestar],
) -> None:
    _queue_due(gateway_client, timedelta(minutes=3))
    fresh = gateway_client.get("/readyz")
    assert fresh.status_code == 200
    assert fresh.json()["checks"]["sms_queue"] == "ok"

    _queue_due(gateway_client, timedelta(minutes=11))
    stuck = gateway_client.get("/readyz")
    assert stuck.status_code == 503
    assert stuck.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "ok", "sms_queue": "stuck"},
    }
    assert "+66800000961" not in stuck.text
