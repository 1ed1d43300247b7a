"""Shared test set-up: one migrated database per run, emptied before each test.

SQLite in a temporary folder by default; ``PORTAL_TEST_DATABASE_URL=postgresql://...`` runs the
same tests on PostgreSQL. Database work in a test goes through ``run_db`` so that it happens in
the app's event loop, where a PostgreSQL connection pool lives.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.catalogue.service import seed_default_services
from portal.db import configure_database, migrate
from portal.otp.policy import OtpPolicy
from portal.privacy import citizen_ids
from portal.settings import Settings, load_settings
from portal.tables.attachment import Attachment
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest
from portal.tables.form_draft import FormDraft
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.request_event import RequestEvent
from portal.tables.sms_gateway_state import SmsGatewayState
from portal.tables.sms_message import SmsMessage
from portal.tables.staff_note import StaffNote

T = TypeVar("T")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> str:
    configure_database(database_url)
    asyncio.run(migrate())
    asyncio.run(seed_default_services())
    return database_url


async def _empty_tables() -> None:
    # Audit rows and internal notes hold on to requests (ON DELETE RESTRICT): they go first.
    tables = (
        AuditEvent,
        StaffNote,
        SmsMessage,
        RequestEvent,
        Attachment,
        CitizenRequest,
        OtpChallenge,
        SmsGatewayState,
        FormDraft,
    )
    for table in tables:
        await table.delete(force=True)


@pytest.fixture
def database(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, seeded database with no requests, codes or messages in it, and the citizen-ID
    vault keyed as the test settings key it (filing without an app, as casework tests do)."""
    configure_database(migrated_database)
    citizen_ids.configure(make_settings(tmp_path_factory.getbasetemp(), migrated_database))
    asyncio.run(_empty_tables())
    return migrated_database


def make_settings(data_dir: Path, database_url: str, **overrides: str) -> Settings:
    environ = {
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": TEST_SECRET,
        "PORTAL_BASE_URL": "https://eservice.example.go.th",
        **overrides,
    }
    return load_settings(environ)


@pytest.fixture
def settings(tmp_path: Path, database: str) -> Settings:
    return make_settings(tmp_path, database)


@pytest.fixture
def otp_policy() -> OtpPolicy:
    return OtpPolicy()


@pytest.fixture
def app(settings: Settings, otp_policy: OtpPolicy) -> Litestar:
    return create_app(settings, otp_policy=otp_policy)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def new_browser(app: Litestar, client: TestClient[Litestar]) -> Callable[[], TestClient[Litestar]]:
    """Make another browser (its own cookies) talking to the app ``client`` is running.

    Not ``with TestClient(app) as other``: that starts the app a second time in a second event
    loop, and on PostgreSQL the connection pool belongs to the first loop (asyncpg: "attached to
    a different loop"). Sharing ``client``'s blocking portal keeps one app and one loop, like two
    phones on one server; ``client`` runs the app's startup and shutdown once.
    """

    def make() -> TestClient[Litestar]:
        browser = TestClient(app=app, base_url=str(client.base_url))
        browser.blocking_portal = client.blocking_portal
        return browser

    return make


@pytest.fixture
def run_db(client: TestClient[Litestar]) -> Callable[[Callable[[], Awaitable[T]]], T]:
    """Run a coroutine function in the app's event loop (PostgreSQL pools live there)."""

    def call(function: Callable[[], Awaitable[T]]) -> T:
        portal = client.blocking_portal
        assert portal is not None
        return portal.call(function)

    return call


def html(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


_REFERENCE = re.compile(r'(<strong data-reference(?:="")?>)[^<]*(</strong>)')


def without_reference(text: str) -> str:
    """An error page less its reference number (a new request id on every response), so two
    answers that must look the same to a visitor can be compared byte for byte."""
    return _REFERENCE.sub(r"\1\2", text)


def csrf_token(client: TestClient[Litestar], path: str = "/") -> str:
    """Load a page and read the CSRF token its forms carry."""
    page = html(client.get(path))
    field = page.select_one("input[name=_csrf_token]")
    if field is not None:
        return str(field["value"])
    body = page.select_one("body")
    assert body is not None
    import json

    return str(json.loads(str(body["hx-headers"]))["x-csrftoken"])
