"""PostgreSQL faults for real: the server restarted under a running ``portal serve``, and a
table lock held by someone else past the pool's ``lock_timeout``.

The restart uses the throwaway cluster's own ``pg_ctl`` (``scripts/with-postgres`` exports it
as ``PORTAL_TEST_PG_CTL``). These tests are for PostgreSQL only; the SQLite run skips them (its
locked-file fault is in ``test_faults.py``), and the PostgreSQL run in CI fails on any skip.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient

from portal.app import create_app
from portal.db import current_engine
from portal.db_engines import PortalPostgresEngine
from portal.tables.citizen_request import CitizenRequest
from portal.web.errors import database_unavailable
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, enter_code, latest_code, send_code
from tests.conftest import app_loop, csrf_token, free_port, fresh, make_settings
from tests.security.figures import FIGURES
from tests.security.helpers import phone, portal_serve
from tests.security.serving import (
    FORM,
    ON_POSTGRES,
    half_written_requests,
    is_thai_unavailable_page,
    number_shown,
    ready_citizen,
    request_counts,
    serve_env,
    submit,
)

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="PostgreSQL faults (the SQLite run has its own in test_faults.py)"
)

PG_CTL = os.environ.get("PORTAL_TEST_PG_CTL", "")
RETRY_PAUSE = 0.2
"""How soon a test citizen tries again after a 503 (a person waits the Retry-After)."""


def pg_ctl(*args: str) -> None:
    if not PG_CTL:
        pytest.skip("PORTAL_TEST_PG_CTL not set: run under scripts/with-postgres")
    subprocess.run([PG_CTL, *args], check=True, capture_output=True, timeout=90)  # noqa: S603


def submit_until_filed(
    browser: httpx.Client, data: dict[str, str], answers: list[int], deadline: float
) -> str:
    """What a citizen does: submit, and on a 503 wait a moment and submit the same form again."""
    while time.monotonic() < deadline:
        response = submit(browser, data)
        if response is None:
            answers.append(0)  # no answer at all: the process would have died
        else:
            answers.append(response.status_code)
            if response.status_code == 503:
                assert is_thai_unavailable_page(response), response.text[:300]
            number = number_shown(response)
            if number is not None:
                return number
        time.sleep(RETRY_PAUSE)
    raise AssertionError(f"not filed in time: {answers}")


def test_a_postgresql_restart_mid_journey_is_503_then_everything_shown_is_saved_once(
    tmp_path: Path, database: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = serve_env(
        tmp_path, database, port, PORTAL_DATABASE_POOL_MIN="2", PORTAL_DATABASE_POOL_MAX="4"
    )
    with portal_serve(env, port, tmp_path / "serve.log"):
        citizens = [ready_citizen(base, 500 + n) for n in range(25)]

        # 1. The server goes away while a citizen is on the form.
        browser, data = citizens[0]
        pg_ctl("stop", "-m", "fast")
        try:
            during = [
                submit(browser, data),
                browser.get(f"{FORM}/form"),
                browser.get("/e-service"),
                browser.get("/track"),
            ]
        finally:
            pg_ctl("start")
        FIGURES.add("faults_injected", 1)
        for response in during:
            assert response is not None
            # The menu or tracking page may need no database; any that does says "try again".
            assert response.status_code in (200, 503), response.status_code
            if response.status_code == 503:
                assert is_thai_unavailable_page(response), response.text[:300]
        assert during[0] is not None and during[0].status_code == 503
        assert during[1].status_code == 503  # type: ignore[union-attr]
        FIGURES.add("answers_503_during_outage", sum(r.status_code == 503 for r in during if r))

        # The server is back: the same form files once; the pool replaced its dead connections.
        after: list[int] = []
        first = submit_until_filed(browser, data, after, time.monotonic() + 30)
        assert request_counts(first) == (1, 1, 1)
        FIGURES.add("answers_503_after_restart", after.count(503))
        assert set(after) <= {303, 503}, after
        print(f"after the stop/start: {after}")

        # 2. pg_ctl restart -m fast while 24 citizens are submitting (4 browsers at a time).
        shown: dict[int, str] = {}
        answers: dict[int, list[int]] = {n: [] for n in range(1, len(citizens))}
        filed_before_restart = threading.Semaphore(0)

        def file(n: int) -> None:
            time.sleep(0.05 * (n % 4))
            shown[n] = submit_until_filed(*citizens[n], answers[n], time.monotonic() + 60)
            filed_before_restart.release()

        def restart() -> None:
            for _ in range(3):
                filed_before_restart.acquire(timeout=30)
            pg_ctl("restart", "-m", "fast")

        restarter = threading.Thread(target=restart)
        restarter.start()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(file, range(1, len(citizens))))
        restarter.join(timeout=120)
        FIGURES.add("faults_injected", 1)

        statuses = Counter(code for codes in answers.values() for code in codes)
        print(f"answers around pg_ctl restart -m fast: {dict(statuses)}")
        FIGURES.add("answers_503_during_outage", statuses[503])
        assert set(statuses) <= {303, 503}, statuses  # never a 500, never a dropped connection
        # Every number shown is saved exactly once, whole, and each citizen got their own.
        assert len(set(shown.values())) == len(citizens) - 1
        for number in [first, *shown.values()]:
            assert request_counts(number) == (1, 1, 1), number
        assert fresh(lambda: CitizenRequest.count()) == len(citizens)
        assert half_written_requests() == []
        # And the pool serves normally again.
        assert httpx.get(f"{base}/e-service", timeout=10).status_code == 200


# lock_timeout and statement_timeout on the web pool


def _hold_table_lock(dsn: str, seconds: float, held: threading.Event) -> None:
    import asyncpg

    async def hold() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            async with connection.transaction():
                await connection.execute("LOCK TABLE citizen_request IN ACCESS EXCLUSIVE MODE")
                held.set()
                await asyncio.sleep(seconds)
        finally:
            await connection.close()

    fresh(hold)


def test_a_held_table_lock_answers_503_after_the_lock_timeout_not_a_hang(
    tmp_path: Path, database: str
) -> None:
    settings = make_settings(tmp_path, database, PORTAL_DATABASE_LOCK_TIMEOUT="1")
    national, e164 = phone(560)
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        run_db = app_loop(client)

        assert send_code(client, national).status_code == 303
        assert enter_code(client, latest_code(run_db, e164)).status_code == 303
        page = BeautifulSoup(client.get(f"{FORM}/form").text, "html.parser")
        key = page.select_one("input[name=submission_key]")
        assert key is not None
        form = {
            **GENERAL_REQUEST_ANSWERS,
            "_csrf_token": csrf_token(client, f"{FORM}/form"),
            "submission_key": str(key["value"]),
        }

        held = threading.Event()
        holder = threading.Thread(target=_hold_table_lock, args=(database, 6.0, held))
        holder.start()
        assert held.wait(10)
        started = time.monotonic()
        blocked = client.post(f"{FORM}/form", data=form, follow_redirects=False)
        waited = time.monotonic() - started
        holder.join()
        FIGURES.add("faults_injected", 1)
        assert blocked.status_code == 503
        assert blocked.headers["retry-after"] == "5"
        assert waited < 4, waited  # the 1 s lock timeout, not the 6 s the lock was held
        assert run_db(lambda: CitizenRequest.count()) == 0

        # The lock is gone: the same form files once.
        filed = client.post(f"{FORM}/form", data=form, follow_redirects=False)
        assert filed.status_code == 303
        assert run_db(lambda: CitizenRequest.count()) == 1


def test_pooled_connections_carry_both_timeouts_and_migrations_do_not(
    tmp_path: Path, database: str
) -> None:
    settings = make_settings(
        tmp_path,
        database,
        PORTAL_DATABASE_LOCK_TIMEOUT="2",
        PORTAL_DATABASE_STATEMENT_TIMEOUT="1",
    )
    app = create_app(settings)
    engine = current_engine()
    assert isinstance(engine, PortalPostgresEngine)

    async def pooled() -> tuple[str, str, BaseException | None]:
        assert engine.pool is not None
        async with engine.pool.acquire() as connection:
            lock = await connection.fetchval("SHOW lock_timeout")
            statement = await connection.fetchval("SHOW statement_timeout")
            try:
                await connection.execute("SELECT pg_sleep(3)")
            except Exception as error:  # the error is what is checked
                return lock, statement, error
        return lock, statement, None

    async def unpooled() -> tuple[str, str]:
        # What migrations run on: a connection of their own, before any pool exists.
        connection = await engine.get_new_connection()
        try:
            return (
                await connection.fetchval("SHOW lock_timeout"),
                await connection.fetchval("SHOW statement_timeout"),
            )
        finally:
            await connection.close()

    with TestClient(app=app) as client:
        assert client.blocking_portal is not None
        lock, statement, error = client.blocking_portal.call(pooled)
        assert (lock, statement) == ("2s", "1s")
        assert error is not None and database_unavailable(error), error
        assert client.blocking_portal.call(unpooled) == ("0", "0")
