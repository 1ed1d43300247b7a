"""The database engine: built from settings, shared with Piccolo, migrated on start.

Piccolo binds each table to an engine it finds through ``PICCOLO_CONF``. Rather than read
settings at import time, ``configure_database`` builds the engine from the ``Settings`` a caller
holds and points Piccolo (its config module and every table) at it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import zlib
from collections.abc import AsyncIterator
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

SQLITE_BUSY_TIMEOUT_S = 30
"""Long enough that a burst of submissions waits for the writer instead of failing."""


def engine_for_url(url: str) -> Engine[Any]:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        return SQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT_S)
    return PostgresEngine(config={"dsn": url.replace("postgres://", "postgresql://", 1)})


def configure_database(url: str) -> Engine[Any]:
    """Point Piccolo, its migration table and all portal tables at one engine for ``url``."""
    from piccolo.apps.migrations.tables import Migration

    from portal import piccolo_conf
    from portal.tables.piccolo_app import ALL_TABLES

    os.environ["PICCOLO_CONF"] = "portal.piccolo_conf"
    engine = engine_for_url(url)
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


async def migrate() -> None:
    """Apply pending Piccolo migrations to the configured engine."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")


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
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()


async def close_pool() -> None:
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()


def is_unique_violation(error: BaseException) -> bool:
    """True for a unique-constraint failure on either database."""
    if isinstance(error, sqlite3.IntegrityError):
        return "UNIQUE" in str(error)
    import asyncpg

    return isinstance(error, asyncpg.UniqueViolationError)
