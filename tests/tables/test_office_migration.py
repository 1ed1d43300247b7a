"""The offices migration on a database that already holds a one-office portal's rows: every row
ends in the default office, nothing is lost, and the uniques become per office (both databases)."""

# ruff: noqa: S608 (constant SQL written by the test)
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from piccolo.apps.migrations.commands.forwards import run_forwards

from portal.db import configure_database, migrate
from tests.conftest import fresh
from tests.db.test_migration_lock import fresh_pg_database, restore_engine

__all__ = ["fresh_pg_database", "restore_engine"]

BEFORE_OFFICES = "2026-12-03T14:16:32:808772"
NOW = "'2026-11-01 09:00:00+00:00'"
OLD_ROWS = (
    "INSERT INTO service (slug, name) VALUES ('general', 'แจ้งคำร้องทั่วไป')",
    "INSERT INTO staff_user (username, password_hash, totp_secret_encrypted, created_at) "
    f"VALUES ('somchai', 'x', 'x', {NOW})",
    "INSERT INTO citizen_request (number, service, phone, tracking_token, tracking_token_hash,"
    f" submission_key, created_at, updated_at) VALUES ('69-000001', 1, '+66812345678', 't',"
    f" 'h', 'k', {NOW}, {NOW})",
    f"INSERT INTO staff_note (request, author, text, created_at) VALUES (1, 1, 'n', {NOW})",
    "INSERT INTO audit_event (actor, action, request, created_at) VALUES "
    f"('somchai', 'view_request', 1, {NOW})",
    "INSERT INTO sms_message (to_phone, sender, text, purpose, backend, request, created_at)"
    f" VALUES ('+66812345678', 'OSS-LOCAL', 'x', 'receipt', 'outbox', 1, {NOW})",
)


async def _upgrade(url: str) -> dict[str, Any]:
    engine: Any = configure_database(url)
    try:
        result = await run_forwards(app_name="portal", migration_id=BEFORE_OFFICES)
        assert result.success, result.message
        for sql in OLD_ROWS:
            await engine.run_ddl(sql)
        await migrate()
        seen: dict[str, Any] = {}
        for table in ("service", "staff_user", "citizen_request", "staff_note", "audit_event"):
            seen[table] = await engine.run_ddl(f"SELECT office FROM {table}")
        seen["office"] = await engine.run_ddl("SELECT id, slug FROM office")
        # A second office may reuse the slug, the username and the number ...
        await engine.run_ddl(
            "INSERT INTO office (slug, updated_at) VALUES ('b', CURRENT_TIMESTAMP)"
        )
        await engine.run_ddl("INSERT INTO service (office, slug, name) VALUES (2, 'general', 'x')")
        await engine.run_ddl(
            "INSERT INTO staff_user (office, username, password_hash, totp_secret_encrypted,"
            f" created_at) VALUES (2, 'somchai', 'x', 'x', {NOW})"
        )
        # ... but not twice in one office.
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            await engine.run_ddl(
                "INSERT INTO service (office, slug, name) VALUES (1, 'general', 'y')"
            )
        seen["services"] = await engine.run_ddl("SELECT office, slug FROM service ORDER BY id")
        return seen
    finally:
        if hasattr(engine, "close"):
            await engine.close()


def _assert_upgraded(seen: dict[str, Any]) -> None:
    assert [dict(row) for row in seen["office"]] == [{"id": 1, "slug": "default"}]
    for table in ("service", "staff_user", "citizen_request", "staff_note", "audit_event"):
        assert [row["office"] for row in seen[table]] == [1], table
    assert [(row["office"], row["slug"]) for row in seen["services"]] == [
        (1, "general"),
        (2, "general"),
    ]


def test_sqlite_rows_move_into_the_default_office(tmp_path: Path, restore_engine: None) -> None:
    path = tmp_path / "old.sqlite3"
    _assert_upgraded(fresh(_upgrade(f"sqlite:///{path}")))
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        # The rebuilt tables kept their other indexes and constraints.
        indexes = {row[1] for row in connection.execute("PRAGMA index_list(citizen_request)")}
    assert "citizen_request_office_phone" in indexes
    assert any("tracking_token_hash" in name or "autoindex" in name for name in indexes)


def test_postgres_rows_move_into_the_default_office(
    fresh_pg_database: str, restore_engine: None
) -> None:
    _assert_upgraded(fresh(_upgrade(fresh_pg_database)))
