"""Several machines start at once: two ``portal migrate`` on one fresh database both succeed,
and every migration is applied exactly once (``portal.db.migrate`` takes the migration lock).

SQLite always (a fresh file); PostgreSQL when the run has one (the test database with its
migrated tables moved aside for the test).
"""

from __future__ import annotations

import importlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from portal.db import configure_database, pending_migrations
from tests.conftest import TEST_SECRET, fresh

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
STARTS = 3
"""Processes started together; more than two, so a lock that lets two through is caught."""


def _migration_ids() -> list[str]:
    folder = Path(__file__).parents[2] / "portal" / "tables" / "piccolo_migrations"
    modules = sorted(p.stem for p in folder.glob("portal_*.py"))
    ids = [
        str(importlib.import_module(f"portal.tables.piccolo_migrations.{name}").ID)
        for name in modules
    ]
    assert len(ids) >= 5
    return sorted(ids)


def _start_together(url: str, data_dir: Path) -> list[subprocess.CompletedProcess[str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=url, PORTAL_DATA_DIR=str(data_dir), PORTAL_SECRET_KEY=TEST_SECRET
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(STARTS)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def _applied(url: str) -> tuple[list[str], list[str]]:
    """The migration table's names (with any duplicates) and what Piccolo still calls pending."""

    async def read() -> tuple[list[str], list[str]]:
        from piccolo.apps.migrations.tables import Migration

        engine = configure_database(url)
        try:
            rows = await Migration.select(Migration.name).where(Migration.app_name == "portal")
            return sorted(str(row["name"]) for row in rows), await pending_migrations()
        finally:
            if hasattr(engine, "close"):
                await engine.close()

    return fresh(read)


def _assert_each_migration_applied_once(url: str, tmp_path: Path) -> None:
    results = _start_together(url, tmp_path)
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    names, pending = _applied(url)
    assert names == _migration_ids()  # each once: no duplicate rows
    assert pending == []


@pytest.fixture
def restore_engine(database_url: str) -> Iterator[None]:
    """These tests point Piccolo at other databases; the shared one is configured back after."""
    yield
    configure_database(database_url)


def test_two_starts_on_one_fresh_sqlite_file_migrate_it_once(
    tmp_path: Path, restore_engine: None
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    _assert_each_migration_applied_once(url, tmp_path)


@pytest.fixture
def fresh_pg_database() -> Iterator[str]:
    """The test database with an empty ``public`` schema: the migrated one is renamed aside
    for the test and put back after (the test role may not create databases)."""
    if not PG_URL.startswith("postgres"):
        pytest.skip("PostgreSQL: run under scripts/with-postgres")
    saved = f"public_saved_{secrets.token_hex(4)}"

    async def run(*statements: str) -> None:
        connection = await asyncpg.connect(PG_URL)
        try:
            async with connection.transaction():
                for sql in statements:
                    await connection.execute(sql)
        finally:
            await connection.close()

    fresh(
        run(
            f"ALTER SCHEMA public RENAME TO {saved}",
            # Piccolo asks whether a "migration" table exists in any schema.
            f"ALTER TABLE IF EXISTS {saved}.migration RENAME TO migration_aside",
            "CREATE SCHEMA public",
        )
    )
    try:
        yield PG_URL
    finally:
        fresh(
            run(
                "DROP SCHEMA public CASCADE",
                f"ALTER TABLE IF EXISTS {saved}.migration_aside RENAME TO migration",
                f"ALTER SCHEMA {saved} RENAME TO public",
            )
        )


def test_two_starts_on_one_fresh_postgres_database_migrate_it_once(
    tmp_path: Path, fresh_pg_database: str, restore_engine: None
) -> None:
    _assert_each_migration_applied_once(fresh_pg_database, tmp_path)
