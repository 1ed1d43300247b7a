"""Faults during a citizen's journey: the SMS gateway down, the database locked or dropping its
connections, the server killed with SIGKILL in the middle of a burst of submissions.

Afterwards every submission the citizen saw succeed is in the database exactly once, with its
timeline event and its SMS, and every SMS it owed is sent once. Each fault is bounded in time.

Already proved elsewhere: a gateway outage and its return lose nothing and send nothing twice
(``tests/sms/test_gateway_outage.py``, ``tests/sms/test_journey.py``, gateway stopped and
started again mid-journey).
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.db import current_engine
from portal.sms.dispatcher import SmsTiming
from portal.tables.citizen_request import CitizenRequest
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState
from tests.citizen.helpers import (
    GENERAL_REQUEST_ANSWERS,
    enter_code,
    latest_code,
    send_code,
    submit_form,
)
from tests.conftest import app_loop, csrf_token, free_port, fresh, make_settings
from tests.security.figures import FIGURES
from tests.security.helpers import RunDb, phone, portal_serve
from tests.security.serving import (
    half_written_requests,
    number_shown,
    ready_citizen,
    request_counts,
    serve_env,
    submit,
)
from tests.sms.gateway import running_gateway, wait_until

T = TypeVar("T")
ON_POSTGRES = os.environ.get("PORTAL_TEST_DATABASE_URL", "").startswith("postgres")
FAST = SmsTiming(
    connect_timeout=0.2,
    read_timeout=0.2,
    poll_interval=0.02,
    backoff_base=0.05,
    backoff_cap=0.2,
    lease=timedelta(seconds=3),
)


def code_from_queue(run_db: RunDb, e164: str) -> str:
    """The code as the queued SMS holds it (the gateway never got it)."""
    row = run_db(
        lambda: (
            SmsMessage.select(SmsMessage.text)
            .where(SmsMessage.to_phone == e164, SmsMessage.purpose == SmsPurpose.otp)
            .order_by(SmsMessage.id, ascending=False)
            .first()
        )
    )
    match = re.search(r"\b(\d{6})\b", row["text"])
    assert match is not None
    return match.group(1)


def request_is_whole(run_db: RunDb, number: str) -> None:
    """The request, its first timeline event and its receipt SMS: all three, once."""

    async def read() -> tuple[int, int, int]:
        rows = await CitizenRequest.select(CitizenRequest.id).where(CitizenRequest.number == number)
        if len(rows) != 1:
            return len(rows), 0, 0
        request_id = rows[0]["id"]
        events = await RequestEvent.count().where(RequestEvent.request == request_id)
        receipts = await SmsMessage.count().where(
            SmsMessage.request == request_id, SmsMessage.purpose == SmsPurpose.receipt
        )
        return 1, int(events), int(receipts)

    assert run_db(read) == (1, 1, 1), number


def test_a_journey_with_the_sms_gateway_down_succeeds_and_keeps_the_messages(
    tmp_path: Path, database: str
) -> None:
    settings = make_settings(
        tmp_path,
        database,
        PORTAL_SMS_BACKEND="webhook",
        PORTAL_SMS_WEBHOOK_URL=f"http://127.0.0.1:{free_port()}/sms",
    )
    national, e164 = phone(70)
    with TestClient(create_app(settings, sms_timing=FAST), base_url="http://testserver.local") as c:
        run_db = app_loop(c)

        FIGURES.add("faults_injected", 1)
        started = time.monotonic()
        assert send_code(c, national).status_code == 303
        assert enter_code(c, code_from_queue(run_db, e164)).status_code == 303
        response = submit_form(c, GENERAL_REQUEST_ANSWERS)
        assert response.status_code == 303
        assert time.monotonic() - started < 5  # the citizen never waits for the gateway
        number = response.headers["location"].rsplit("/", 1)[1]
        request_is_whole(run_db, number)
        # The dispatcher keeps trying; nothing is failed or lost while the receipt is young.
        wait_until(
            lambda: (
                run_db(
                    lambda: (
                        SmsMessage.select(SmsMessage.attempts)
                        .where(SmsMessage.purpose == SmsPurpose.receipt)
                        .first()
                    )
                )["attempts"]
                >= 2
            ),
            timeout=10,
        )
        receipt = run_db(
            lambda: SmsMessage.select().where(SmsMessage.purpose == SmsPurpose.receipt).first()
        )
        assert receipt["state"] in (SmsState.queued, SmsState.sending)
        assert number in receipt["text"]


@pytest.fixture
def short_busy_timeout(app: Litestar, monkeypatch: pytest.MonkeyPatch) -> float:
    """SQLite gives up waiting for a lock after half a second instead of thirty (set before
    the app opens its connections)."""
    engine = current_engine()
    if not ON_POSTGRES:
        monkeypatch.setitem(engine.connection_kwargs, "timeout", 0.5)
    return 0.5


def _hold_write_lock(path: str, seconds: float, held: threading.Event) -> None:
    connection = sqlite3.connect(path, timeout=5)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE service SET sort_order = sort_order")
        held.set()
        time.sleep(seconds)
        connection.rollback()
    finally:
        connection.close()


def _drop_every_connection(dsn: str) -> int:
    """What a PostgreSQL restart does to the portal: every session of the database ends."""
    import asyncpg

    async def drop() -> int:
        connection = await asyncpg.connect(dsn)
        try:
            rows = await connection.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await connection.close()
        return len(rows)

    return fresh(drop)


def test_a_database_fault_mid_journey_is_a_handled_page_and_writes_nothing_half(
    short_busy_timeout: float, client: Any, run_db: RunDb, database: str
) -> None:
    """SQLite: another process holds the write lock past the busy timeout. PostgreSQL: every
    connection is dropped, as a server restart does. Either way the answer comes within the
    timeout, is a handled page, and a retry of the same form files it once."""
    national, e164 = phone(71)
    assert send_code(client, national).status_code == 303
    assert enter_code(client, latest_code(run_db, e164)).status_code == 303
    token = csrf_token(client, "/e-service/general-request/form")
    page = BeautifulSoup(client.get("/e-service/general-request/form").text, "html.parser")
    key = page.select_one("input[name=submission_key]")
    assert key is not None
    form = {**GENERAL_REQUEST_ANSWERS, "_csrf_token": token, "submission_key": str(key["value"])}

    def submit() -> Any:
        return client.post("/e-service/general-request/form", data=form, follow_redirects=False)

    FIGURES.add("faults_injected", 1)
    if ON_POSTGRES:
        assert _drop_every_connection(database) >= 1
        first = submit()
        assert first.status_code in (303, 503), first.status_code
    else:
        held = threading.Event()
        holder = threading.Thread(
            target=_hold_write_lock, args=(database.removeprefix("sqlite:///"), 3.0, held)
        )
        holder.start()
        assert held.wait(5)
        started = time.monotonic()
        first = submit()
        waited = time.monotonic() - started
        holder.join()
        assert first.status_code == 503
        assert first.headers["retry-after"] == "5"
        assert waited < short_busy_timeout + 2, waited
        assert run_db(lambda: CitizenRequest.count()) == 0
        assert run_db(lambda: RequestEvent.count()) == 0
        assert run_db(lambda: SmsMessage.count().where(SmsMessage.purpose == "receipt")) == 0
    # The citizen tries again, as the page says; each dead pooled connection costs one 503.
    retry, answers = first, [first.status_code]
    while retry.status_code == 503 and len(answers) < 20:
        retry = submit()
        answers.append(retry.status_code)
    assert retry.status_code == 303, answers
    assert set(answers) <= {303, 503}, answers
    print(f"answers after the fault: {answers}")
    number = retry.headers["location"].rsplit("/", 1)[1]
    request_is_whole(run_db, number)
    assert run_db(lambda: CitizenRequest.count()) == 1


# SIGKILL during a burst of submissions


BURST = 30
KILL_AFTER = 5


def test_sigkill_during_a_burst_loses_no_submission_and_no_sms(
    tmp_path: Path, database: str
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with running_gateway() as gateway:
        env = serve_env(
            tmp_path,
            database,
            port,
            PORTAL_SMS_BACKEND="webhook",
            PORTAL_SMS_WEBHOOK_URL=gateway.url,
            PORTAL_SMS_DISPATCH="worker",  # queued until the worker below sends them
        )
        base = f"http://127.0.0.1:{port}"
        with portal_serve(env, port, log) as process:
            citizens = [ready_citizen(base, 300 + n) for n in range(BURST)]
            shown: dict[int, str | None] = {}
            answered = threading.Semaphore(0)

            def one(n: int) -> None:
                shown[n] = number_shown(submit(*citizens[n]))
                answered.release()

            def kill_mid_burst() -> None:
                # A few answers in: the rest of the burst is queued or in flight.
                for _ in range(KILL_AFTER):
                    answered.acquire(timeout=10)
                os.killpg(process.pid, signal.SIGKILL)

            killer = threading.Thread(target=kill_mid_burst)
            killer.start()
            with ThreadPoolExecutor(max_workers=BURST) as pool:
                list(pool.map(one, range(BURST)))
            killer.join()
            process.wait(timeout=10)

        FIGURES.add("faults_injected", 1)
        seen = {n: number for n, number in shown.items() if number}
        # The kill came mid-burst: some citizens saw success, some saw nothing.
        assert 1 <= len(seen) < BURST, len(seen)
        print(f"SIGKILL after {len(seen)} of {BURST} submissions were answered")
        for number in seen.values():
            assert request_counts(number) == (1, 1, 1), number
        assert half_written_requests() == []

        # The citizens who saw no answer try again with the same form: one request each.
        with portal_serve(env, port, log):
            for n in range(BURST):
                number = number_shown(submit(*citizens[n]))
                assert number is not None, n
                if n in seen:
                    assert number == seen[n]
                assert request_counts(number) == (1, 1, 1), number
        assert fresh(lambda: CitizenRequest.count()) == BURST
        assert half_written_requests() == []

        # Every receipt goes out once.
        for _ in range(2):
            sent = subprocess.run(
                [sys.executable, "-m", "portal.cli", "sms", "worker", "--once"],
                env=env,
                capture_output=True,
                timeout=120,
                check=False,
            )
            assert sent.returncode == 0, sent.stderr.decode()[-2000:]
        receipts = fresh(
            lambda: SmsMessage.select(SmsMessage.id, SmsMessage.state).where(
                SmsMessage.purpose == SmsPurpose.receipt
            )
        )
        assert len(receipts) == BURST
        assert {r["state"] for r in receipts} == {SmsState.sent}
        accepted = gateway.accepted_ids()
        FIGURES.add("submissions_in_kill_burst", BURST)
        FIGURES.add("submissions_lost", BURST - len(receipts))
        FIGURES.add("receipts_sent_twice", sum(accepted[str(r["id"])] - 1 for r in receipts))
        assert all(accepted[str(r["id"])] == 1 for r in receipts), accepted
