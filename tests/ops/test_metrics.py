"""``/metrics``: the figures move with a citizen's journey, labels hold route templates and no
personal data, only the token holder or a direct local scrape may read them, and the workers
of ``portal serve --workers 2`` are counted together (portal/ops/metrics.py, business.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from portal.app import WORKER_HEADER, create_app
from tests.citizen.helpers import (
    GENERAL_REQUEST_ANSWERS,
    enter_code,
    latest_code,
    send_code,
    submit_form,
)
from tests.conftest import free_port, make_settings
from tests.security.helpers import browser_from

TOKEN = "metrics-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
PHONE, E164 = "0800000962", "+66800000962"
TRACKING = "SeCrEtTrackingToken0123456789abcdefABCDEF"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def token_client(tmp_path: Path, database: str) -> Iterator[TestClient[Litestar]]:
    settings = make_settings(tmp_path, database, PORTAL_METRICS_TOKEN=TOKEN)
    with TestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        yield client


def scrape(client: TestClient[Litestar]) -> Samples:
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.text[:200]
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "set-cookie" not in response.headers
    return samples(response.text)


def test_the_figures_move_after_a_journey(token_client: TestClient[Litestar]) -> None:
    client = token_client
    before = scrape(client)

    assert send_code(client, PHONE).status_code == 303
    portal = client.blocking_portal
    assert portal is not None
    code = latest_code(portal.call, E164)
    wrong = "000000" if code != "000000" else "111111"
    assert enter_code(client, wrong).status_code == 422
    assert enter_code(client, code).status_code == 303
    filed = submit_form(client, GENERAL_REQUEST_ANSWERS)
    assert filed.status_code == 303
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    form = "/e-service/{slug}/form"
    assert moved("portal_http_requests_total", method="POST", route=form, status="303") == 1
    assert moved("portal_http_requests_total", method="GET", route=form, status="200") >= 1
    assert moved("portal_http_request_duration_seconds_count", method="POST", route=form) == 1
    assert moved("portal_filings_total", service="general-request") == 1
    assert moved("portal_otp_codes_24h", outcome="sent") == 1
    assert moved("portal_otp_codes_24h", outcome="verified") == 1
    assert moved("portal_otp_codes_24h", outcome="failed") == 1
    # The code and the receipt: the development outbox backend "sends" on writing.
    assert moved("portal_sms_messages", state="sent", backend="outbox") == 2
    assert value(after, "portal_database_up") == 1
    assert value(after, "portal_sms_budget_limit") == 2000
    assert value(after, "portal_sms_budget_used") >= 1
    assert value(after, "portal_sms_queue_oldest_due_seconds") == 0


def test_labels_are_route_templates_never_the_address(token_client: TestClient[Litestar]) -> None:
    token_client.get(f"/t/{TRACKING}")
    token_client.get(f"/staff/requests?q={PHONE}")
    token_client.get("/no-such-page/0812345678")
    text = token_client.get("/metrics", headers=BEARER).text
    assert TRACKING not in text
    assert PHONE not in text and "0812345678" not in text
    found = samples(text)
    assert value(
        found, "portal_http_requests_total", method="GET", route="/t/{token}", status="404"
    )
    assert value(found, "portal_http_requests_total", method="GET", route="unmatched", status="404")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
)
def test_without_the_token_it_is_the_ordinary_not_found_page(
    token_client: TestClient[Litestar], headers: dict[str, str]
) -> None:
    refused = token_client.get("/metrics", headers=headers)
    missing = token_client.get("/no-such-page")
    assert refused.status_code == missing.status_code == 404
    same_address = missing.text.replace("/no-such-page", "/metrics")
    assert _without_reference(refused.text) == _without_reference(same_address)
    assert "portal_http_requests" not in refused.text


def _without_reference(page: str) -> str:
    return re.sub(r"data-reference>[^<]*<", "data-reference><", page)


def test_the_token_is_required_even_from_this_machine(tmp_path: Path, database: str) -> None:
    settings = make_settings(tmp_path, database, PORTAL_METRICS_TOKEN=TOKEN)
    guarded = create_app(settings)
    with TestClient(app=guarded, base_url="http://testserver.local") as other:
        local = browser_from(guarded, other, "127.0.0.1")
        assert local.get("/metrics").status_code == 404
        assert local.get("/metrics", headers=BEARER).status_code == 200


@pytest.mark.parametrize(
    ("address", "headers", "status"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 404),  # came through the proxy
        ("127.0.0.1", {"X-Real-IP": "203.0.113.9"}, 404),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}, 404),
        ("203.0.113.9", {}, 404),
        ("10.0.0.5", {}, 404),
    ],
)
def test_without_a_token_only_a_direct_local_scrape_reads_them(
    app: Litestar,
    client: TestClient[Litestar],
    address: str,
    headers: dict[str, str],
    status: int,
) -> None:
    browser = browser_from(app, client, address)
    response = browser.get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 200:
        assert "portal_http_requests_total" in response.text


# ``portal serve --workers 2``: every worker's requests in every scrape


@pytest.fixture
def two_workers(tmp_path: Path, database: str) -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    stale = tmp_path / "metrics" / "counter_999999.db"
    stale.parent.mkdir()
    stale.write_bytes(b"left from an earlier run")
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": database,
        "PORTAL_BASE_URL": base_url,
        "PORTAL_DATABASE_POOL_MIN": "1",
        "PORTAL_DATABASE_POOL_MAX": "2",
    }
    env.pop("PORTAL_SECRET_KEY", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text())
            time.sleep(0.2)
        assert not stale.exists()
        yield base_url
    finally:
        serve.terminate()
        serve.wait(timeout=30)


def test_two_workers_are_counted_together(two_workers: str) -> None:
    answered_by: dict[str, int] = {}
    sent = 0
    while len(answered_by) < 2 or sent < 20:
        with httpx.Client(base_url=two_workers, timeout=10) as browser:  # a new connection
            response = browser.get("/e-service")
        assert response.status_code == 200
        tag = response.headers[WORKER_HEADER]
        answered_by[tag] = answered_by.get(tag, 0) + 1
        sent += 1
        assert sent < 400, answered_by
    scraped_by: set[str] = set()
    for _ in range(200):
        with httpx.Client(base_url=two_workers, timeout=10) as scraper:
            response = scraper.get("/metrics")
        assert response.status_code == 200
        scraped_by.add(response.headers[WORKER_HEADER])
        found = samples(response.text)
        count = value(
            found, "portal_http_requests_total", method="GET", route="/e-service", status="200"
        )
        assert count == sent, (count, sent, answered_by)
        if len(scraped_by) == 2:
            break
    assert len(scraped_by) == 2


def test_made_up_methods_share_one_label(token_client: TestClient[Litestar]) -> None:
    for method in ("FOO", "BAR", "X" * 40):
        token_client.request(method, "/e-service")
    text = token_client.get("/metrics", headers=BEARER).text
    assert "FOO" not in text and "BAR" not in text
    found = samples(text)
    assert (
        value(found, "portal_http_requests_total", method="OTHER", route="unmatched", status="405")
        >= 3
    )
