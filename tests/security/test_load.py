"""200 citizens at once for 60 s against a real ``portal serve`` (127.0.0.1 only): no answer
is a 5xx, no journey fails, every form the portal said it filed is saved once, and the access
log of the whole run holds none of the tracking tokens it served.

Each citizen loops whole journeys as a browser without JavaScript does (menu -> service ->
phone -> OTP read from the outbox -> form -> success page -> tracking link from the receipt
SMS, read twice more). The driver is the load benchmark's own small client (``bench/client.py``,
``bench/journey.py``), cheap enough to share two cores with the server.

``PORTAL_LOAD_SECONDS`` (default 60) and ``PORTAL_LOAD_CITIZENS`` (default 200) shorten it
locally; CI runs the full minute on each database.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from pathlib import Path

from bench import journey as steps
from bench.client import Browser, Response
from portal.tables.citizen_request import CitizenRequest
from tests.conftest import free_port, fresh
from tests.security.figures import FIGURES
from tests.security.helpers import FIRST_TEST_PHONE, LAST_TEST_PHONE, portal_serve
from tests.security.serving import serve_env

SECONDS = float(os.environ.get("PORTAL_LOAD_SECONDS", "60"))
CITIZENS = int(os.environ.get("PORTAL_LOAD_CITIZENS", "200"))
JOURNEY_TIMEOUT = 90.0
"""A journey that takes longer than this counts as failed (a hang is a failure too)."""
PHONES = LAST_TEST_PHONE - FIRST_TEST_PHONE + 1
MAX_JOURNEYS = 3 * PHONES - 1
"""Bound on journeys however fast the machine: each test phone may have 3 codes in 15 minutes."""
TRACKING_READS = 2
"""Extra reads of the tracking link after each journey: citizens check back."""


def load_phone(n: int) -> str:
    """Journey ``n``'s phone, cycling over the suite's range (3 codes per 15 minutes each)."""
    return f"+6680000{FIRST_TEST_PHONE + n % PHONES:04d}"


class CountingBrowser(Browser):
    """The benchmark's browser, counting every answer's status for the run."""

    statuses: Counter[int]

    async def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> Response:
        response = await super().request(method, path, body, content_type)
        self.statuses[response.status] += 1
        return response


class Run:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.timings = steps.Timings()
        self.journeys = 0
        self.numbers: list[str] = []
        self.tokens: set[str] = set()
        self.next = 0

    def citizen_number(self) -> int:
        self.next += 1
        return self.next


async def one_journey(port: int, n: int, outbox: steps.Outbox, run: Run) -> None:
    browser = CountingBrowser(port, steps.client_ip(n))
    browser.statuses = run.statuses
    phone = load_phone(n)
    timings = run.timings
    add = timings.add
    try:
        csrf, key = await steps.verified_form(browser, phone, outbox, timings)
        success = await steps.submit(browser, csrf, key, timings)
        run.numbers.append(success.rsplit("/", 1)[1])
        page = await browser.get(success)
        add("success", page)
        if page.status != 200:
            raise steps.JourneyError("success", f"HTTP {page.status}")
        receipt = await outbox.latest(phone, "receipt")
        token = re.search(r"/t/([A-Za-z0-9_\-]+)", receipt or "")
        if token is None:
            raise steps.JourneyError("receipt", "no tracking link in the SMS")
        run.tokens.add(token.group(1))
        for _ in range(1 + TRACKING_READS):
            tracked = await browser.get(f"/t/{token.group(1)}")
            add("tracking", tracked)
            if tracked.status != 200:
                raise steps.JourneyError("tracking", f"HTTP {tracked.status}")
        run.journeys += 1
    except steps.JourneyError as error:
        timings.fail(error.step, str(error))
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        timings.fail("connection", f"{type(error).__name__}: {error}")
    finally:
        await browser.close()


async def drive(port: int, database: str, run: Run) -> None:
    outbox: steps.Outbox
    if database.startswith("sqlite:///"):
        outbox = steps.SqliteOutbox(database.removeprefix("sqlite:///"))
    else:
        outbox = steps.PostgresOutbox(database)
    deadline = time.monotonic() + SECONDS

    async def citizen() -> None:
        while time.monotonic() < deadline and run.next < MAX_JOURNEYS:
            n = run.citizen_number()
            try:
                await asyncio.wait_for(one_journey(port, n, outbox, run), JOURNEY_TIMEOUT)
            except TimeoutError:
                run.timings.fail("timeout", f"journey {n} took over {JOURNEY_TIMEOUT} s")

    try:
        await asyncio.gather(*(citizen() for _ in range(CITIZENS)))
    finally:
        await outbox.close()


def test_two_hundred_citizens_for_a_minute_get_no_server_error_and_lose_nothing(
    tmp_path: Path, database: str
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = serve_env(tmp_path, database, port, PORTAL_FORWARDED_ALLOW_IPS="127.0.0.1")
    run = Run()
    started = time.monotonic()
    with portal_serve(env, port, log):
        fresh(drive(port, database, run))
    elapsed = time.monotonic() - started

    requests = sum(run.statuses.values())
    server_errors = sum(n for status, n in run.statuses.items() if status >= 500)
    failures = dict(run.timings.errors)
    print(
        f"{CITIZENS} citizens for {SECONDS:.0f} s ({elapsed:.0f} s with start-up): "
        f"{run.journeys} journeys, {requests} requests, statuses {dict(run.statuses)}, "
        f"failures {failures} {run.timings.error_samples[:3]}"
    )
    FIGURES.add("load_citizens", CITIZENS)
    FIGURES.add("load_seconds", int(SECONDS))
    FIGURES.add("load_journeys", run.journeys)
    FIGURES.add("load_requests", requests)
    FIGURES.add("load_5xx", server_errors)
    FIGURES.add("load_failed_journeys", sum(failures.values()))

    assert server_errors == 0, run.statuses
    assert failures == {}, run.timings.error_samples
    assert run.journeys > 0
    # Nothing lost: every form the portal answered with its success page is one saved request.
    assert len(set(run.numbers)) == len(run.numbers) == run.timings.filed
    saved = fresh(lambda: CitizenRequest.select(CitizenRequest.number))
    assert sorted(r["number"] for r in saved) == sorted(run.numbers)
    # The access log shows the tracking link's shape, never a token.
    logged = log.read_text(errors="replace")
    assert "GET /t/{token}" in logged
    leaked = [token for token in run.tokens if token in logged]
    assert leaked == [], f"{len(leaked)} tracking tokens in the access log"
