"""PostgreSQL row-level security: with an office named, a query that forgets its
``WHERE office = ...`` still sees (and may write) only that office's rows."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest

from portal.db import write_transaction
from portal.db_engines import OFFICE_SCOPE, office_scope
from portal.kernel.offices import OfficeRef
from portal.tables.audit_event import AuditEvent
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.service import Service
from portal.web.offices import OfficeResolver
from tests.conftest import fresh
from tests.offices import create_office

pytestmark = pytest.mark.skipif(
    not os.environ.get("PORTAL_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL: run under scripts/with-postgres (SQLite has no row security)",
)


def _audit(office_id: int, actor: str) -> AuditEvent:
    return AuditEvent(office=office_id, actor=actor, action="test", created_at=datetime.now(UTC))


async def _scenario() -> dict[str, Any]:
    other = await create_office("rls-b", hosts=("rls-b.example.test",))
    await _audit(DEFAULT_OFFICE_ID, "a-officer").save()
    await _audit(other, "b-officer").save()
    seen: dict[str, Any] = {}
    with office_scope(DEFAULT_OFFICE_ID):
        seen["audit"] = [row["actor"] for row in await AuditEvent.select(AuditEvent.actor)]
        seen["services"] = {row["office"] for row in await Service.select(Service.office)}
        async with write_transaction():  # SET LOCAL inside a transaction
            seen["in_transaction"] = await AuditEvent.count()
        try:
            await _audit(other, "smuggled").save()
            seen["write_to_other"] = "accepted"
        except Exception as error:
            seen["write_to_other"] = type(error).__name__
    with office_scope(other):
        seen["audit_b"] = [row["actor"] for row in await AuditEvent.select(AuditEvent.actor)]
    seen["unscoped"] = sorted(row["actor"] for row in await AuditEvent.select(AuditEvent.actor))
    return seen


def test_an_unscoped_query_sees_only_the_current_office(database: str) -> None:
    seen = fresh(_scenario)
    assert seen["audit"] == ["a-officer"]
    assert seen["services"] == {DEFAULT_OFFICE_ID}
    assert seen["in_transaction"] == 1
    assert seen["write_to_other"] == "InsufficientPrivilegeError"
    assert seen["audit_b"] == ["b-officer"]
    # Outside a request (jobs, the CLI, this test's set-up) every office is visible.
    assert seen["unscoped"] == ["a-officer", "b-officer"]


def test_each_request_runs_scoped_to_its_office() -> None:
    seen: list[int | None] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(OFFICE_SCOPE.get())

    class Directory:
        async def for_host(self, host: str) -> OfficeRef | None:
            return OfficeRef(id=7, slug="g", name="g") if host == "g.example.test" else None

    resolver = OfficeResolver(inner, Directory(), settings=_production())  # type: ignore[arg-type]
    scope = {"type": "http", "path": "/", "headers": [(b"host", b"g.example.test")]}
    fresh(resolver(scope, None, None))  # type: ignore[arg-type]
    assert seen == [7]
    assert OFFICE_SCOPE.get() is None


def _production() -> Any:
    class Settings:
        is_development = False

    return Settings()
