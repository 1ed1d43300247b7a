"""``/healthz`` and ``/readyz`` through the app: small JSON, no cookies, no request log line,
and an id on every answer (portal/ops/gateway.py)."""

from __future__ import annotations

import json
import logging

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.web.log_format import ACCESS_LOGGER
from portal.web.request_id import ALPHABET, LENGTH


def test_healthz_answers_ok_without_cookies(client: TestClient[Litestar]) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"  # security headers still on


def test_readyz_answers_each_check_in_a_word(client: TestClient[Litestar]) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "sms_queue": "not used"},
    }
    assert "set-cookie" not in response.headers


def test_a_browser_with_a_session_gets_no_cookie_back_from_the_probes(
    client: TestClient[Litestar],
) -> None:
    client.get("/")  # the CSRF cookie (and any session) is set by a page
    assert client.cookies
    for path in ("/healthz", "/readyz"):
        assert "set-cookie" not in client.get(path).headers, path


def test_head_answers_the_status_without_a_body(client: TestClient[Litestar]) -> None:
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_are_the_ordinary_not_found(
    client: TestClient[Litestar], method: str
) -> None:
    response = client.request(method, "/healthz")
    assert response.status_code in (403, 404, 405)  # POST without a CSRF token is 403
    assert "text/html" in response.headers["content-type"]


def test_probes_write_no_request_line_but_pages_do(
    client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get("/healthz")
        client.get("/readyz")
        client.get("/metrics")  # refused here (not loopback): an ordinary 404, logged as one
        client.get("/e-service")
    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [(r.method, r.route, r.status) for r in lines] == [  # type: ignore[attr-defined]
        ("GET", "unmatched", 404),
        ("GET", "/e-service", 200),
    ]


def test_every_answer_carries_a_fresh_request_id(client: TestClient[Litestar]) -> None:
    ids = [client.get(path).headers["x-request-id"] for path in ("/healthz", "/", "/nowhere")]
    assert len(set(ids)) == 3
    for request_id in ids:
        assert len(request_id) == LENGTH
        assert set(request_id) <= set(ALPHABET)


def test_healthz_body_is_small_json(client: TestClient[Litestar]) -> None:
    body = client.get("/healthz").content
    assert len(body) < 64
    assert json.loads(body)["status"] == "ok"
