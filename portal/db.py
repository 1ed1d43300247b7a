"""The database engine: built from settings, shared with Piccolo, migrated on start.

Piccolo binds each table to an engine it finds through ``PICCOLO_CONF``. Rather than read
settings at import time, ``configure_database`` builds the engine from the ``Settings`` a caller
holds (``portal.db_engines`` picks SQLite or PostgreSQL) and points Piccolo (its config module
and every table) at it.

The engine is the portal's one process-wide mutable global, on purpose: Piccolo's tables find
their engine through ``portal.piccolo_conf.DB`` and ``Table._meta.db``, not through an
argument, so ``configure_database`` sets both once per process (again in tests). Everything
else reaches settings through the ``settings`` dependency (``portal.app``) or, in start-up hooks
and guards, ``portal.settings.settings_of(app)``. The only other module-level state is lazy,
read-only caches (the receipt's Thai word-break dictionary, ``portal.receipt.thai_words``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

from portal.db_engines import (
    SQLITE_BUSY_TIMEOUT_S,
    PoolSize,
    PortalPostgresEngine,
    engine_for_url,
    sqlite_path,
)
from portal.sqlite_engine import PortalSQLiteEngine


def configure_database(url: str, pool_size: PoolSize | None = None) -> Engine[Any]:
    """Point Piccolo, its migration table and all portal tables at one engine for ``url``.

    An SQLite engine already configured for the same file is kept, with its open connections
    (tests and the CLI configure the database more than once per process).
    """
    from piccolo.apps.migrations.tables import Migration

    from portal import piccolo_conf
    from portal.tables.piccolo_app import ALL_TABLES

    os.environ["PICCOLO_CONF"] = "portal.piccolo_conf"
    current = piccolo_conf.__dict__.get("DB")
    engine: Engine[Any]
    if (
        isinstance(current, PortalSQLiteEngine)
        and url.startswith("sqlite:///")
        and current.path == sqlite_path(url)
    ):
        engine = current
    else:
        engine = engine_for_url(url, pool_size)
    piccolo_conf.DB = engine
    for table in [*ALL_TABLES, Migration]:
        table._meta.db = engine
    if isinstance(engine, SQLiteEngine):
        _enable_wal(engine.path)
    return engine


def _enable_wal(path: str) -> None:
    """WAL lets readers go on while one writer commits; the mode is stored in the file."""
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


MIGRATION_LOCK = "portal-migrations"
MIGRATION_LOCK_WAIT_S = 600
"""How long a process starting beside another waits for that one's migrations to finish."""


async def migrate() -> None:
    """Apply pending Piccolo migrations to the configured engine, one process at a time.

    Several machines (or ``portal serve`` beside ``portal sms worker``) may start together on
    one database: each takes the migration lock first, so one applies the migrations and the
    others, once it is done, find nothing left to do. Piccolo would otherwise let both read
    "not yet run" and apply the same migration twice (a failed ``CREATE TABLE``, or a
    duplicate row in its migration table).

    - PostgreSQL: a session advisory lock, held on a connection of its own while Piccolo runs
      the migrations on others.
    - SQLite: the database's write lock (``BEGIN IMMEDIATE``), with every migration run inside
      that one transaction on the writer connection: all of them apply, or none.
    """
    engine = current_engine()
    if isinstance(engine, PortalSQLiteEngine):
        await _migrate_under_write_lock(engine)
    elif isinstance(engine, PostgresEngine):
        await _migrate_under_advisory_lock(engine)
    else:
        await _run_migrations()


async def _run_migrations() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")


async def _migrate_under_write_lock(engine: PortalSQLiteEngine) -> None:
    """The busy timeout bounds one wait for the lock; a long migration elsewhere is waited
    for in rounds, up to ``MIGRATION_LOCK_WAIT_S``."""
    deadline = time.monotonic() + MIGRATION_LOCK_WAIT_S
    while True:
        try:
            async with (
                _foreign_keys_off(engine),
                engine.transaction(transaction_type=TransactionType.immediate),
            ):
                await _run_migrations()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise


@contextlib.asynccontextmanager
async def _foreign_keys_off(engine: PortalSQLiteEngine) -> AsyncIterator[None]:
    """SQLite's documented way to change a table's shape (add a ``REFERENCES`` column, rebuild
    a table) needs foreign-key enforcement off, and the pragma is ignored inside a transaction:
    so it is turned off on the writer before ``BEGIN`` and on again after. A migration that
    rebuilds tables runs ``PRAGMA foreign_key_check`` itself before it commits."""
    writer = engine.connections().writer
    await writer.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        await writer.execute("PRAGMA foreign_keys = ON")


async def _migrate_under_advisory_lock(engine: PostgresEngine) -> None:
    import asyncpg

    key = zlib.crc32(MIGRATION_LOCK.encode())
    connection = await asyncpg.connect(**engine.config)
    try:
        await connection.execute(f"SET lock_timeout = {MIGRATION_LOCK_WAIT_S * 1000}")
        await connection.execute("SELECT pg_advisory_lock($1)", key)
        try:
            await _run_migrations()
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", key)
    finally:
        await connection.close()


async def pending_migrations() -> list[str]:
    """Ids of the portal's migrations not yet applied to the configured database (empty: current).

    ``portal check`` and ``/readyz`` ask this: a process started on a newer release than the
    database has been migrated to must not claim to be ready.
    """
    from piccolo.apps.migrations.commands.check import CheckMigrationManager

    statuses = await CheckMigrationManager(app_name="all").get_migration_statuses()
    return [status.migration_id for status in statuses if not status.has_ran]


def current_engine() -> Engine[Any]:
    from portal import piccolo_conf

    return piccolo_conf.DB


@contextlib.asynccontextmanager
async def write_transaction(serialize: str | None = None) -> AsyncIterator[Any]:
    """A transaction that takes SQLite's write lock up front.

    A deferred SQLite transaction that reads first and writes later can deadlock against
    another writer and fail with "database is locked"; IMMEDIATE waits its turn instead, so
    check-then-write logic (send limits) is serialised for free. On PostgreSQL, ``serialize``
    names a transaction-scoped advisory lock that gives the same guarantee across workers.
    """
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
            yield txn
    else:
        async with engine.transaction() as txn:
            if serialize is not None:
                key = zlib.crc32(serialize.encode())
                await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock({})", key))
            yield txn


async def start_pool() -> None:
    """Start-up: open the PostgreSQL pool, or this process's SQLite connections."""
    engine = current_engine()
    if isinstance(engine, PortalPostgresEngine):
        await engine.open_pool()
    elif isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()
    elif isinstance(engine, PortalSQLiteEngine):
        await engine.open()


async def close_pool() -> None:
    """Shutdown: close what ``start_pool`` opened."""
    engine = current_engine()
    if isinstance(engine, PortalPostgresEngine):
        await engine.close_pool()
    elif isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()
    elif isinstance(engine, PortalSQLiteEngine):
        await engine.close()


def is_unique_violation(error: BaseException) -> bool:
    """True for a unique-constraint failure on either database."""
    if isinstance(error, sqlite3.IntegrityError):
        return "UNIQUE" in str(error)
    import asyncpg

    return isinstance(error, asyncpg.UniqueViolationError)


def json_object(raw: Any) -> dict[str, Any]:
    """A JSON column's object as a dict: Piccolo gives JSON text on SQLite and parsed JSON on
    PostgreSQL; anything that is not an object reads as empty."""
    data = json.loads(raw) if isinstance(raw, str) else raw
    return data if isinstance(data, dict) else {}
