"""Shared test set-up: one migrated database per run, emptied before each test.

SQLite in a temporary folder by default; ``PORTAL_TEST_DATABASE_URL=postgresql://...`` runs the
same tests on PostgreSQL.

Async work from a (synchronous) test goes through one of two helpers, one per situation:

- ``run_db`` (a fixture; ``app_loop(client)`` for a client a test starts itself) runs it in the
  event loop of the running app: on PostgreSQL the connection pool belongs to that loop, and a
  query from another loop fails ("attached to a different loop");
- ``fresh(...)`` runs it in an event loop of its own, for tests that run no app (services,
  queries, command-line set-up). It takes a coroutine or query, or a function that makes one.

(``tests/db/test_sqlite_engine.py`` calls ``asyncio.run`` itself: event loops are its subject.)
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, overload

import pytest
from bs4 import BeautifulSoup
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.catalogue.service import seed_default_services
from portal.db import configure_database, migrate
from portal.otp.policy import OtpPolicy
from portal.privacy.citizen_ids import CitizenIdVault
from portal.settings import Settings, load_settings
from portal.tables.attachment import Attachment
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest
from portal.tables.form_draft import FormDraft
from portal.tables.moved_token import MovedToken
from portal.tables.office import DEFAULT_OFFICE_ID, Office, OfficeHost
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.reply_template import ReplyTemplate
from portal.tables.request_event import RequestEvent
from portal.tables.service import Service
from portal.tables.sms_gateway_state import SmsGatewayState
from portal.tables.sms_message import SmsMessage
from portal.tables.staff_enrolment import StaffEnrolment
from portal.tables.staff_note import StaffNote
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from portal.tables.staff_user import StaffUser
from portal.tables.upload_refusal import UploadRefusal

T = TypeVar("T")
RunDb = Callable[[Callable[[], Awaitable[Any]]], Any]
"""What ``run_db`` is: call a coroutine function in the app's event loop, return its result."""
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@overload
def fresh(work: Callable[[], Awaitable[T]]) -> T: ...


@overload
def fresh(work: Awaitable[T]) -> T: ...


def fresh(work: Callable[[], Awaitable[T]] | Awaitable[T]) -> T:
    """Await ``work`` (a coroutine or Piccolo query, or a function making one) in an event loop
    of its own. Only where no app runs: with one, ``run_db`` (see the module docstring)."""

    async def wait() -> T:
        return await (work() if callable(work) else work)

    return asyncio.run(wait())


def app_loop(client: TestClient[Any]) -> Callable[[Callable[[], Awaitable[T]]], T]:
    """``run_db`` for the app ``client`` runs: a test that starts its own client (settings of its
    own) uses this inside its ``with TestClient(...)`` block."""

    def call(function: Callable[[], Awaitable[T]]) -> T:
        portal = client.blocking_portal
        assert portal is not None, "the client is not running: use it inside its with block"
        return portal.call(function)

    return call


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> str:
    configure_database(database_url)
    fresh(migrate)
    fresh(seed_default_services)
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
        UploadRefusal,  # refused uploads count toward a phone's upload quota
    )
    for table in tables:
        await table.delete(force=True)
    await _remove_other_offices()


async def _remove_other_offices() -> None:
    """Only the default office (id 1, ``env_managed`` as a fresh start leaves it) survives a
    test: offices a test made go, with everything they own."""
    await OfficeHost.delete(force=True)
    for owned in (
        ReplyTemplate,
        StaffEnrolment,
        StaffSignInAttempt,
        MovedToken,
        StaffUser,
        Service,
    ):
        await owned.delete().where(owned.office != DEFAULT_OFFICE_ID)
    await Office.delete().where(Office.id != DEFAULT_OFFICE_ID)
    await Office.update({Office.env_managed: True, Office.active: True}).where(
        Office.id == DEFAULT_OFFICE_ID
    )


@pytest.fixture
def database(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, seeded database with no requests, codes or messages in it."""
    configure_database(migrated_database)
    fresh(_empty_tables)
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
def portal_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database: str) -> Path:
    """Point the ``portal`` command (run in-process) at the test database, whatever the shell
    had set; its data folder is ``tmp_path``, which is returned."""
    for name in (
        "PORTAL_ENV",
        "PORTAL_SMS_BACKEND",
        "PORTAL_SMS_DAILY_LIMIT",
        "PORTAL_OTP_IP_HOURLY_LIMIT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", database)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORTAL_SECRET_KEY", TEST_SECRET)
    return tmp_path


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
    return app_loop(client)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released): for a server to
    start on, or to be sure nobody answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def filing_vault() -> CitizenIdVault:
    """The citizen-ID vault of every test app (``make_settings`` keys it from ``TEST_SECRET``),
    for filing without an app (``file_request(vault=...)``) and reading what an app sealed."""
    return CitizenIdVault.from_settings(make_settings(Path("unused"), "sqlite:///unused.db"))
