"""``portal sms worker``: the dispatcher as its own process, for several-process deployments."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest

from portal.cli import main
from portal.sms.background import run_worker
from portal.sms.dispatcher import SmsTiming
from portal.tables.sms_message import SmsState
from tests.conftest import TEST_SECRET, fresh, make_settings
from tests.sms.gateway import eventually, running_gateway
from tests.sms.messages import PHONES, queue, rows


@pytest.fixture
def worker_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database: str) -> None:
    for name in ("PORTAL_ENV", "PORTAL_SMS_BACKEND", "PORTAL_SMS_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", database)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORTAL_SECRET_KEY", TEST_SECRET)


@pytest.mark.usefixtures("worker_env")
def test_once_sends_what_is_due_and_exits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(3):
        fresh(queue(phone=PHONES[70 + n], text=f"message {n}"))
    with running_gateway() as gateway:
        monkeypatch.setenv("PORTAL_SMS_BACKEND", "webhook")
        monkeypatch.setenv("PORTAL_SMS_WEBHOOK_URL", gateway.url)
        assert main(["sms", "worker", "--once"]) == 0
        assert sorted(payload["text"] for payload in gateway.accepted) == [
            "message 0",
            "message 1",
            "message 2",
        ]
    assert "handled 3 due messages" in capsys.readouterr().err
    assert {r["state"] for r in fresh(rows())} == {SmsState.sent}


@pytest.mark.usefixtures("worker_env")
def test_the_outbox_backend_needs_no_worker(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sms", "worker", "--once"]) == 2
    assert "outbox" in capsys.readouterr().err


def test_the_worker_runs_until_sigterm(tmp_path: Path, database: str) -> None:
    timing = SmsTiming(poll_interval=0.02, lease=timedelta(seconds=5))
    with running_gateway() as gateway:
        settings = make_settings(
            tmp_path, database, PORTAL_SMS_BACKEND="webhook", PORTAL_SMS_WEBHOOK_URL=gateway.url
        )

        async def go() -> int:
            task = asyncio.create_task(run_worker(settings, timing))
            await queue(phone=PHONES[80])
            await eventually(lambda: len(gateway.accepted) == 1)
            await queue(phone=PHONES[81], text="while running")
            await eventually(lambda: len(gateway.accepted) == 2)
            os.kill(os.getpid(), signal.SIGTERM)
            return await asyncio.wait_for(task, 5)

        assert fresh(go()) == 0
