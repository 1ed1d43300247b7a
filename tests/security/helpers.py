"""Shared tools for the security suite: test phones, the app's own route list, a snapshot of
everything saved, browsers from other addresses, and page comparison without tokens."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.handlers.http_handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from litestar.types import Receive, Scope, Send

from portal.tables.piccolo_app import ALL_TABLES
from tests.conftest import RunDb, csrf_token, html

Browser = TestClient[Litestar]

FIRST_TEST_PHONE = 5000
LAST_TEST_PHONE = 5999


def phone(n: int) -> tuple[str, str]:
    """Test number ``n`` (0..999) of the range 080-000-5000..080-000-5999: (national, E.164)."""
    assert 0 <= n <= LAST_TEST_PHONE - FIRST_TEST_PHONE
    digits = f"80000{FIRST_TEST_PHONE + n:04d}"
    return "0" + digits, "+66" + digits


# The app's own route list


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """The route's template, e.g. ``/staff/requests/{number:str}``."""
    name: str
    handler: HTTPRouteHandler

    @property
    def csrf_exempt(self) -> bool:
        return bool(self.handler.opt.get("exclude_from_csrf"))

    @property
    def guard_names(self) -> set[str]:
        """Names of the guards on the route itself (none are set on the app or routers)."""
        return {getattr(guard, "__name__", "") for guard in self.handler.guards or ()}

    def url(self, params: dict[str, str]) -> str:
        """The path with each ``{name:type}`` filled from ``params``."""

        def fill(match: re.Match[str]) -> str:
            return params[match.group(1)]

        return re.sub(r"\{(\w+)(?::\w+)?\}", fill, self.path)


def endpoints(app: Litestar) -> Iterator[Endpoint]:
    """Every (method, route) the app answers, from its route table (OPTIONS and HEAD aside:
    Litestar answers those itself)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in ("OPTIONS", "HEAD"):
                    continue
                yield Endpoint(method, route.path, str(handler.name), handler)


# Everything saved


def snapshot(run_db: RunDb) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every row of every table, by table and primary key."""

    async def read() -> dict[str, dict[Any, dict[str, Any]]]:
        rows: dict[str, dict[Any, dict[str, Any]]] = {}
        for table in ALL_TABLES:
            found = await table.select()
            rows[table._meta.tablename] = {row["id"]: row for row in found}
        return rows

    result: dict[str, dict[Any, dict[str, Any]]] = run_db(read)
    return result


def changed_rows(
    before: dict[str, dict[Any, dict[str, Any]]], after: dict[str, dict[Any, dict[str, Any]]]
) -> list[tuple[str, Any]]:
    """(table, id) of every row that existed before and is now different or gone."""
    return [
        (table, key)
        for table, rows in before.items()
        for key, row in rows.items()
        if after.get(table, {}).get(key) != row
    ]


# Browsers from other addresses


class ClientAddress:
    """ASGI wrapper that takes the client's address from ``x-test-client-ip``, as uvicorn does
    from ``X-Forwarded-For`` behind a trusted proxy (``PORTAL_FORWARDED_ALLOW_IPS``)."""

    HEADER = b"x-test-client-ip"

    def __init__(self, app: Litestar) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == self.HEADER:
                    scope = {**scope, "client": (value.decode(), 50000)}  # type: ignore[misc]
        await self.app(scope, receive, send)  # type: ignore[arg-type]


def browser_from(app: Litestar, client: Browser, address: str) -> TestClient[Any]:
    """A new browser (own cookies) at ``address``, on the app ``client`` runs."""
    browser: TestClient[Any] = TestClient(
        app=ClientAddress(app),
        base_url=str(client.base_url),
        raise_server_exceptions=True,
    )
    browser.headers["x-test-client-ip"] = address
    browser.blocking_portal = client.blocking_portal
    return browser


# Answers to bad input


def assert_handled(response: Any, where: object = "") -> None:
    """A 4xx or a handled page: never a server error, whatever was sent."""
    assert response.status_code < 500, (where, response.status_code)


def assert_no_injected_markup(response: Any, where: object = "") -> None:
    """What was typed is shown as text, never as markup: every script is one of our own
    hashed assets (pages may load more of them, e.g. the upload script)."""
    if "text/html" not in response.headers.get("content-type", ""):
        return
    page = html(response)
    scripts = page.select("script")
    assert all(str(s.get("src", "")).startswith("/assets/") for s in scripts), where
    assert page.select("img[onerror], iframe, object, embed") == [], where
    for element in page.find_all(True):
        for attribute in element.attrs:
            assert not attribute.lower().startswith("on"), (where, element.name, attribute)


def assert_answered_safely(response: Any, where: object = "") -> Any:
    """Handled (no 5xx) and nothing echoed as markup; the response, for further checks."""
    assert_handled(response, where)
    assert_no_injected_markup(response, where)
    return response


def post_form(browser: Browser, path: str, data: Any, page: str = "/") -> Any:
    """POST ``data`` to ``path`` with the CSRF token a visit to ``page`` hands out."""
    token = csrf_token(browser, page)
    return browser.post(path, data=data, headers={"x-csrftoken": token}, follow_redirects=False)


def post_safely(browser: Browser, path: str, data: Any, page: str = "/", where: object = "") -> Any:
    """``post_form``, then ``assert_answered_safely``: the fuzzers' one step."""
    return assert_answered_safely(post_form(browser, path, data, page), where)


# Comparing pages


def page_without_tokens(response: Any) -> str:
    """The page as a visitor sees it, minus the CSRF token (random for every browser)."""
    page = BeautifulSoup(response.text, "html.parser")
    for field in page.select("input[name=_csrf_token]"):
        field.decompose()
    for reference in page.select("[data-reference]"):
        reference.string = ""  # an error page's request id, new on every response
    body = page.select_one("body")
    if body is not None and body.has_attr("hx-headers"):
        del body["hx-headers"]
    return str(page)


# A real ``portal serve``


@contextmanager
def portal_serve(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``portal serve`` on 127.0.0.1 in its own process group, so that a SIGKILL reaches every
    process it started; stopped (SIGTERM, then SIGKILL) on the way out."""
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "portal.cli", "serve", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text())
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
