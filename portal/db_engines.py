"""Which engine a database URL gets, and how big its pool is: no state, no Piccolo config.

Both ``portal.db`` (which installs the engine for the app) and ``portal.piccolo_conf`` (which
builds one for Piccolo's own CLI) start here, so neither imports the other.

- SQLite (the embedded default): ``PortalSQLiteEngine`` (``portal/sqlite_engine.py``) keeps a
  writer and a reader connection per process instead of one connection per query; WAL mode, a
  busy timeout and foreign keys are set on each connection.
- PostgreSQL: Piccolo's asyncpg engine with a connection pool per process, opened by
  ``start_pool`` at start-up (``PORTAL_DATABASE_POOL_MIN``..``PORTAL_DATABASE_POOL_MAX``
  connections) and closed by ``close_pool`` at shutdown.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from portal.sqlite_engine import PortalSQLiteEngine

if TYPE_CHECKING:
    from portal.settings import Settings

SQLITE_BUSY_TIMEOUT_S = 30
"""How long a writer waits for another process's write lock before "database is locked"."""


@dataclass(frozen=True)
class PoolSize:
    """Connections each process keeps to PostgreSQL (each worker and each SMS worker), and how
    long a statement on one of them may wait for a lock or run at all.

    The timeouts are set on the pool's connections only (asyncpg ``server_settings``), so
    migrations, which run before the pool opens on a connection of their own, are exempt: an
    ``ALTER TABLE`` may rightly wait its turn. A web request past either limit fails with
    ``LockNotAvailableError``/``QueryCanceledError``, which ``portal.web.errors`` answers with
    503 and Retry-After: a held lock costs a citizen seconds, never a hung page and a pool
    drained by waiting requests.
    """

    min: int = 2
    max: int = 10
    lock_timeout_s: int = 5
    statement_timeout_s: int = 15

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolSize:
        return cls(
            settings.database_pool_min,
            settings.database_pool_max,
            settings.database_lock_timeout_s,
            settings.database_statement_timeout_s,
        )

    def server_settings(self) -> dict[str, str]:
        """PostgreSQL session settings for each pooled connection (milliseconds)."""
        return {
            "lock_timeout": str(self.lock_timeout_s * 1000),
            "statement_timeout": str(self.statement_timeout_s * 1000),
        }


OFFICE_SCOPE: ContextVar[int | None] = ContextVar("portal_office_scope", default=None)
"""The office the running request belongs to (set by ``portal.web.offices`` for each request);
None outside requests: background jobs, the CLI, migrations and tests work across offices.

On PostgreSQL every office-owned table has a row-level security policy (migration
``portal_2026_12_03t20_00_00_000000``) that shows and accepts only rows of the office named by
the ``app.office_id`` setting, when it is set: the engine sets it from this variable before each
query (``SET LOCAL`` in a transaction), so a query that forgot its ``WHERE office = ...`` still
sees one office. Unset, every office is visible (the jobs that legitimately span offices).
"""
OFFICE_SETTING_SQL = "SELECT set_config('app.office_id', $1, $2)"


@contextlib.contextmanager
def office_scope(office_id: int | None) -> Iterator[None]:
    """Run the block as office ``office_id`` (None: across offices, e.g. a platform-wide limit
    counted inside a request)."""
    token = OFFICE_SCOPE.set(office_id)
    try:
        yield
    finally:
        OFFICE_SCOPE.reset(token)


class PortalPostgresTransaction(PostgresTransaction):
    """A transaction that names its office first (``SET LOCAL``: it ends with the transaction)."""

    async def begin(self) -> None:
        await super().begin()  # type: ignore[no-untyped-call]
        office = OFFICE_SCOPE.get()
        if office is not None:
            await self.connection.execute(OFFICE_SETTING_SQL, str(office), True)


class PortalPostgresEngine(PostgresEngine):
    """Piccolo's asyncpg engine that knows the size of the pool it opens at start-up, and names
    the request's office on each connection it uses (see ``OFFICE_SCOPE``)."""

    def __init__(self, dsn: str, pool_size: PoolSize) -> None:
        super().__init__(config={"dsn": dsn})
        self.pool_size = pool_size

    async def open_pool(self) -> None:
        if self.pool is None:
            await self.start_connection_pool(
                min_size=self.pool_size.min,
                max_size=self.pool_size.max,
                # An idle worker gives connections back instead of holding them for ever.
                max_inactive_connection_lifetime=300,
                server_settings=self.pool_size.server_settings(),
            )

    async def close_pool(self) -> None:
        if self.pool is not None:
            await self.close_connection_pool()

    def transaction(self, allow_nested: bool = True) -> PortalPostgresTransaction:
        return PortalPostgresTransaction(engine=self, allow_nested=allow_nested)

    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        office = OFFICE_SCOPE.get()
        if office is None or self.pool is None:
            return await super()._run_in_pool(query, args)
        async with self.pool.acquire() as connection:
            # Session-wide on a pooled connection: the pool's reset (RESET ALL) clears it when
            # the connection goes back, so the next query, of any office, starts unset.
            await connection.execute(OFFICE_SETTING_SQL, str(office), False)
            return await connection.fetch(query, *(args or []))

    async def _run_in_new_connection(self, query: str, args: Sequence[Any] | None = None) -> Any:
        office = OFFICE_SCOPE.get()
        if office is None:
            return await super()._run_in_new_connection(query, args)
        connection = await self.get_new_connection()
        try:
            await connection.execute(OFFICE_SETTING_SQL, str(office), False)
            return await connection.fetch(query, *(args or []))
        finally:
            await connection.close()


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def engine_for_url(url: str, pool_size: PoolSize | None = None) -> Engine[Any]:
    if url.startswith("sqlite:///"):
        path = sqlite_path(url)
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        return PortalSQLiteEngine(path, busy_timeout_s=SQLITE_BUSY_TIMEOUT_S)
    dsn = url.replace("postgres://", "postgresql://", 1)
    return PortalPostgresEngine(dsn, pool_size or PoolSize())
