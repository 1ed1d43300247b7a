"""`portal serve --workers 2` and `portal sms worker` as separate processes behave as one portal.

A citizen's journey where every request lands on the other worker than the one before: the
browser session, the OTP challenge, the send limits and the SMS outbox all live where every
process sees them. SMS leave through ``portal sms worker`` (``PORTAL_SMS_DISPATCH=worker``) to a
fake gateway on 127.0.0.1. Runs on whichever database the test run uses.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup

from portal.app import WORKER_HEADER
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, SERVICE
from tests.conftest import free_port
from tests.sms.gateway import FakeGateway, running_gateway

PHONE = "0800000960"
E164 = "+66800000960"
STARTUP_S = 90
TRIES_TO_REACH_A_WORKER = 300


@dataclass
class Portal:
    base_url: str
    workers: list[str] = field(default_factory=list)
    """The tags (``x-portal-worker``) of the two workers, in the order first seen."""


def _wait_for_two_workers(base_url: str, processes: list[subprocess.Popen[bytes]]) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + STARTUP_S
    while len(seen) < 2:
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise RuntimeError(f"the portal did not come up with two workers (saw {seen})")
        try:
            tag = httpx.get(base_url + "/", timeout=5).headers[WORKER_HEADER]
        except httpx.HTTPError:
            time.sleep(0.2)
            continue
        if tag not in seen:
            seen.append(tag)
    return seen


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with running_gateway() as fake:
        yield fake


@pytest.fixture
def portal(tmp_path: Path, database: str, gateway: FakeGateway) -> Iterator[Portal]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": database,
        "PORTAL_BASE_URL": base_url,
        "PORTAL_SMS_BACKEND": "webhook",
        "PORTAL_SMS_WEBHOOK_URL": gateway.url,
        "PORTAL_SMS_DISPATCH": "worker",
        "PORTAL_DATABASE_POOL_MIN": "1",
        "PORTAL_DATABASE_POOL_MAX": "4",
    }
    env.pop("PORTAL_SECRET_KEY", None)  # the development secret is made once, before the fork
    log = (tmp_path / "processes.log").open("w")
    serve = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "portal.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sms_worker = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "sms", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    processes = [serve, sms_worker]
    try:
        workers = _wait_for_two_workers(base_url, processes)
        yield Portal(base_url, workers)
    except RuntimeError:
        log.flush()
        raise RuntimeError((tmp_path / "processes.log").read_text()) from None
    finally:
        for process in processes:
            process.terminate()
        codes = [process.wait(timeout=30) for process in processes]
        log.close()
    assert codes == [0, 0], (tmp_path / "processes.log").read_text()


class Browser:
    """One citizen's browser whose every request goes to a chosen worker.

    Each request opens a new connection and checks, with a GET of the home page, which worker
    took it, until it is the wanted one; the real request then goes on that same keep-alive
    connection. Cookies carry over, as in a browser.
    """

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.cookies = httpx.Cookies()
        self.turn = 0
        self.answered_by: list[str] = []

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        wanted = self.portal.workers[self.turn % 2]
        self.turn += 1
        for _ in range(TRIES_TO_REACH_A_WORKER):
            with httpx.Client(
                base_url=self.portal.base_url, cookies=self.cookies, timeout=10
            ) as client:
                if client.get("/").headers[WORKER_HEADER] != wanted:
                    continue
                response = client.request(method, path, follow_redirects=False, **kwargs)
                self.cookies = httpx.Cookies(client.cookies)
                self.answered_by.append(response.headers[WORKER_HEADER])
                return response
        raise AssertionError(f"no connection reached worker {wanted}")

    def csrf_from(self, response: httpx.Response) -> str:
        field = BeautifulSoup(response.text, "html.parser").select_one("input[name=_csrf_token]")
        assert field is not None
        return str(field["value"])

    def post_form(self, path: str, data: dict[str, str]) -> httpx.Response:
        token = self.csrf_from(self.request("GET", path))
        return self.request("POST", path, data={**data, "_csrf_token": token})


def _wait_for_sms(gateway: FakeGateway, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages = [message for message in gateway.accepted if message["to"] == E164]
        if len(messages) >= count:
            return messages
        time.sleep(0.1)
    raise AssertionError(f"expected {count} SMS to {E164}, the gateway has {gateway.accepted}")


def test_a_journey_alternating_between_two_workers(portal: Portal, gateway: FakeGateway) -> None:
    citizen = Browser(portal)
    assert citizen.request("GET", "/e-service").status_code == 200
    step = f"/e-service/{SERVICE}"

    sent = citizen.post_form(f"{step}/phone", {"phone": PHONE})
    assert sent.status_code == 303, sent.text
    otp = _wait_for_sms(gateway, 1)[0]["text"]
    code = re.search(r"\b(\d{6})\b", otp)
    assert code is not None
    wrong = "000000" if code.group(1) != "000000" else "111111"
    assert citizen.post_form(f"{step}/verify", {"code": wrong}).status_code == 422
    assert citizen.post_form(f"{step}/verify", {"code": code.group(1)}).status_code == 303

    filed = citizen.post_form(f"{step}/form", GENERAL_REQUEST_ANSWERS)
    assert filed.status_code == 303, filed.text
    success = citizen.request("GET", filed.headers["location"])
    assert success.status_code == 200

    receipt = _wait_for_sms(gateway, 2)[1]["text"]
    link = re.search(r"https?://\S+/t/(\S+)", receipt)
    assert link is not None
    assert citizen.request("GET", f"/t/{link.group(1)}").status_code == 200

    # Every request went where it was sent: strictly alternating, so each step's state
    # (session, CSRF, challenge, verified phone) was written by the other worker.
    assert citizen.answered_by == [portal.workers[n % 2] for n in range(citizen.turn)]

    # The send limit for one phone (3 in 15 minutes) counts sends made on either worker.
    for attempt in (2, 3, 4):
        other = Browser(portal)
        other.turn = attempt
        answer = other.post_form(f"{step}/phone", {"phone": PHONE})
        assert answer.status_code == (303 if attempt < 4 else 429)
    assert len(_wait_for_sms(gateway, 4)) == 4
