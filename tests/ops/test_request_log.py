"""One log line per request, the request id that ties it to the error page a citizen sees,
and the JSON lines of production (portal/web/log_format.py, request_id.py, gateway.py)."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.web.access_log import uvicorn_log_config
from portal.web.log_format import ACCESS_LOGGER, JsonFormatter, TextFormatter
from tests.conftest import html, make_settings

TOKEN = "SeCrEtTrackingToken0123456789abcdefABCDEF"
PHONE = "0812345678"


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == ACCESS_LOGGER]


def test_one_line_per_request_with_the_route_template_and_nothing_personal(
    client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        first = client.get(f"/t/{TOKEN}?from=sms")
        second = client.get(f"/staff?q={PHONE}", follow_redirects=False)
        third = client.get(f"/{PHONE}")
    lines = access_lines(caplog)
    assert [
        (r.method, r.route, r.status, r.request_id)  # type: ignore[attr-defined]
        for r in lines
    ] == [
        ("GET", "/t/{token}", first.status_code, first.headers["x-request-id"]),
        ("GET", "/staff", second.status_code, second.headers["x-request-id"]),
        ("GET", "unmatched", 404, third.headers["x-request-id"]),
    ]
    for record in lines:
        text = TextFormatter().format(record) + JsonFormatter().format(record)
        assert TOKEN not in text and PHONE not in text and "from=sms" not in text
        assert record.duration_ms >= 0  # type: ignore[attr-defined]


def test_a_500_shows_the_reference_that_is_on_its_log_lines(
    client: TestClient[Litestar],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(token: str, **_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("portal.tracking.routes.find_by_token", broken)
    with caplog.at_level(logging.INFO, logger="portal"):
        response = client.get(f"/t/{TOKEN}")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    page = html(response)
    assert page.select_one("[data-reference]").get_text(strip=True) == request_id
    assert "เลขอ้างอิง" in page.select_one(".error-page__reference").get_text()

    (error,) = [r for r in caplog.records if r.name == "portal" and r.levelno == logging.ERROR]
    assert error.request_id == request_id  # type: ignore[attr-defined]
    assert json.loads(JsonFormatter().format(error))["request_id"] == request_id
    assert "RuntimeError: a bug" in json.loads(JsonFormatter().format(error))["exception"]
    (line,) = access_lines(caplog)
    assert (line.request_id, line.status) == (request_id, 500)  # type: ignore[attr-defined]


def test_the_english_page_says_reference_number(client: TestClient[Litestar]) -> None:
    client.get("/lang/en?next=/")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    reference = html(response).select_one(".error-page__reference")
    assert reference.get_text().startswith("Reference number")
    assert reference.select_one("[data-reference]").get_text() == response.headers["x-request-id"]


def test_an_htmx_error_partial_shows_the_reference(client: TestClient[Litestar]) -> None:
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    shown = html(response).select_one("[data-reference]")
    assert shown.get_text() == response.headers["x-request-id"]


@pytest.fixture
def proxied(tmp_path: Path, database: str) -> Iterator[TestClient[Litestar]]:
    settings = make_settings(tmp_path, database, PORTAL_FORWARDED_ALLOW_IPS="127.0.0.1")
    with TestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        yield client


NGINX_REQUEST_ID = "0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


def test_behind_a_trusted_proxy_its_plain_request_id_is_kept(proxied: TestClient[Litestar]) -> None:
    nginx = NGINX_REQUEST_ID
    assert proxied.get("/", headers={"X-Request-ID": nginx}).headers["x-request-id"] == nginx
    for odd in ("two words", "x" * 65, "<script>", "id;rm"):
        answered = proxied.get("/", headers={"X-Request-ID": odd}).headers["x-request-id"]
        assert answered != odd


def test_without_a_proxy_in_the_settings_the_clients_request_id_is_not_trusted(
    client: TestClient[Litestar],
) -> None:
    # One app at a time: on PostgreSQL the connection pool belongs to one app's event loop.
    answered = client.get("/", headers={"X-Request-ID": NGINX_REQUEST_ID}).headers["x-request-id"]
    assert answered != NGINX_REQUEST_ID


def _record(**extra: Any) -> logging.LogRecord:
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 1, "GET %s", ("/",), None)
    record.__dict__.update(extra)
    return record


def test_json_lines_hold_one_object_per_line() -> None:
    line = JsonFormatter().format(
        _record(request_id="ABCDEFGHJK", method="GET", route="/", status=200, duration_ms=1.5)
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "GET /"
    assert entry["level"] == "INFO"
    assert entry["logger"] == ACCESS_LOGGER
    assert entry["time"].endswith("Z")
    assert {k: entry[k] for k in ("request_id", "method", "route", "status", "duration_ms")} == {
        "request_id": "ABCDEFGHJK",
        "method": "GET",
        "route": "/",
        "status": 200,
        "duration_ms": 1.5,
    }
    text = TextFormatter().format(_record(request_id="ABCDEFGHJK"))
    assert text.endswith(f"INFO {ACCESS_LOGGER} [ABCDEFGHJK] GET /")


@pytest.fixture
def restored_logging() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("", "portal", "uvicorn", "uvicorn.access")]
    saved = [(lg, lg.level, list(lg.handlers), lg.propagate) for lg in loggers]
    yield
    for logger, level, handlers, propagate in saved:
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


@pytest.mark.parametrize(
    ("log_format", "formatter"), [("json", JsonFormatter), ("text", TextFormatter)]
)
def test_the_serve_log_config_formats_the_portal_lines(
    restored_logging: None, log_format: str, formatter: type[logging.Formatter]
) -> None:
    logging.config.dictConfig(uvicorn_log_config(log_format))
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler.formatter, formatter)
    assert logging.getLogger(ACCESS_LOGGER).getEffectiveLevel() == logging.INFO
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    uvicorn_formatter = logging.getLogger("uvicorn").handlers[0].formatter
    assert isinstance(uvicorn_formatter, JsonFormatter) == (log_format == "json")
