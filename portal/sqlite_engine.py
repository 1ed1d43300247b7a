"""Piccolo's SQLite engine without a connection per query.

Piccolo's ``SQLiteEngine`` opens (and closes) a new aiosqlite connection, with its own thread,
for every query and every transaction: about a millisecond each before any SQL runs. This
engine keeps two connections per process instead, each on its own thread:

- a **writer**, for every transaction and every statement that is not a plain ``SELECT``. An
  ``asyncio.Lock`` gives it to one transaction (or one autocommit statement) at a time, so a
  transaction never sees, or takes part in, another coroutine's work; queries run inside a
  transaction (nested ``engine.transaction()`` blocks join the outer one, as in Piccolo) use it
  without asking for the lock again.
- a **reader**, ``PRAGMA query_only``, for ``SELECT`` statements outside a transaction. In WAL
  mode each of them reads the last committed state, never a transaction in progress, and never
  waits for the writer.

Other processes (more ``portal serve`` workers, ``portal sms worker``, the CLI) have their own
pair; SQLite's file locks and the busy timeout order their writers. The connections belong to
the event loop that opened them (an ``asyncio.Lock`` cannot be shared between loops); a loop
that has closed has its connections closed the next time any loop opens a pair.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.querystring import QueryString

Rows = list[dict[str, Any]]
MIN_SQLITE_VERSION = (3, 35, 0)
"""RETURNING, which the portal's raw SQL uses and Piccolo's inserts rely on here."""


def _rows(connection: sqlite3.Connection, sql: str, args: Sequence[Any]) -> Rows:
    cursor = connection.execute(sql, args)
    try:
        found = cursor.fetchall()
        described = cursor.description
    finally:
        cursor.close()
    if not described:
        return []
    names = [column[0] for column in described]
    return [dict(zip(names, row, strict=True)) for row in found]


def _begin(connection: sqlite3.Connection, sql: str) -> None:
    # A transaction left open (a task cancelled between BEGIN and its end) must not leak
    # into the next one: roll it back first.
    if connection.in_transaction:
        connection.rollback()
    connection.execute(sql)


def _end(connection: sqlite3.Connection, sql: str) -> None:
    if sql == "ROLLBACK" and not connection.in_transaction:
        return  # SQLite already rolled back (some errors end the transaction themselves)
    try:
        connection.execute(sql)
    except sqlite3.Error:
        if connection.in_transaction:
            connection.rollback()
        raise


class _Connection:
    """One sqlite3 connection used only from its own thread; calls queue in order."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], name: str) -> None:
        self._connect = connect
        self._connection: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def _call(self, function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        if self._connection is None:
            self._connection = self._connect()
        return function(self._connection, *args)

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, function, args)

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        """Also what Piccolo's ``Savepoint`` calls on ``transaction.connection``."""
        rows: Rows = await self.call(_rows, sql, args)
        return rows

    def close(self) -> None:
        """Close on the connection's own thread after queued work; needs no event loop."""

        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        self._executor.submit(close)
        self._executor.shutdown(wait=False)


class _LoopConnections:
    def __init__(self, engine: PortalSQLiteEngine) -> None:
        self.pid = os.getpid()
        self.writer = _Connection(engine.connect_writer, "portal-sqlite-writer")
        self.reader = _Connection(engine.connect_reader, "portal-sqlite-reader")
        self.write_lock = asyncio.Lock()

    def close(self) -> None:
        self.writer.close()
        self.reader.close()


class PortalSQLiteTransaction(SQLiteTransaction):
    """Piccolo's transaction on the engine's writer, holding its lock from BEGIN to the end."""

    connection: _Connection
    engine: PortalSQLiteEngine

    async def __aenter__(self) -> PortalSQLiteTransaction:
        if self._parent is not None:
            return cast(PortalSQLiteTransaction, self._parent)
        connections = self.engine.connections()
        await connections.write_lock.acquire()
        try:
            self.connection = connections.writer
            self._lock = connections.write_lock
            await self.connection.call(_begin, f"BEGIN {self.transaction_type.value}")
        except BaseException:
            connections.write_lock.release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def commit(self) -> None:
        await self.connection.call(_end, "COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        await self.connection.call(_end, "ROLLBACK")
        self._rolled_back = True

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            self._lock.release()
        return exception is None


class PortalSQLiteEngine(SQLiteEngine):
    """``SQLiteEngine`` with a persistent writer and reader per process (see the module doc)."""

    def __init__(self, path: str, *, busy_timeout_s: float, synchronous: str = "FULL") -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
            raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is too old; 3.35 or newer")
        super().__init__(path=path, timeout=busy_timeout_s)
        self.synchronous = synchronous
        self._loops: dict[asyncio.AbstractEventLoop, _LoopConnections] = {}
        self._loops_guard = threading.Lock()
        # Piccolo names the variable after the path; two engines on one file must not share it.
        self.current_transaction = contextvars.ContextVar(
            f"portal_sqlite_transaction_{id(self)}", default=None
        )

    # Connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(
            **self.connection_kwargs, check_same_thread=False
        )
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(f"PRAGMA synchronous = {self.synchronous}")
        return connection

    def connect_writer(self) -> sqlite3.Connection:
        return self._connect()

    def connect_reader(self) -> sqlite3.Connection:
        connection = self._connect()
        connection.execute("PRAGMA query_only = ON")  # a write sent here fails loudly
        return connection

    def connections(self) -> _LoopConnections:
        """This event loop's writer and reader, opened on first use."""
        loop = asyncio.get_running_loop()
        found = self._loops.get(loop)
        if found is not None and found.pid == os.getpid():
            return found
        with self._loops_guard:
            for other in [key for key, value in self._loops.items() if key.is_closed()]:
                self._loops.pop(other).close()
            found = self._loops.get(loop)
            if found is None or found.pid != os.getpid():
                # After a fork the parent's threads are gone: start afresh.
                found = self._loops[loop] = _LoopConnections(self)
            return found

    async def open(self) -> None:
        """Open this loop's connections now (start-up), so the first request pays nothing."""
        connections = self.connections()
        await connections.reader.execute("SELECT 1")
        async with connections.write_lock:
            await connections.writer.execute("SELECT 1")

    async def close(self) -> None:
        """Close this loop's connections (shutdown); they reopen if used again."""
        loop = asyncio.get_running_loop()
        with self._loops_guard:
            found = self._loops.pop(loop, None)
        if found is not None:
            async with found.write_lock:
                found.close()

    def close_all(self) -> None:
        """Close every loop's connections; for an engine that is being replaced."""
        with self._loops_guard:
            loops, self._loops = self._loops, {}
        for found in loops.values():
            found.close()

    # Piccolo's engine API --------------------------------------------------------------------

    async def _run(self, sql: str, args: Sequence[Any]) -> Rows:
        transaction = cast(PortalSQLiteTransaction | None, self.current_transaction.get())
        if transaction is not None:
            return await transaction.connection.execute(sql, args)
        connections = self.connections()
        if sql.lstrip()[:6].upper() == "SELECT":
            return await connections.reader.execute(sql, args)
        async with connections.write_lock:
            return await connections.writer.execute(sql, args)

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Rows:
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=str(querystring))
        sql, args = querystring.compile_string(engine_type=self.engine_type)
        response = await self._run(sql, args)
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Rows:
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=ddl)
        response = await self._run(ddl, ())
        if self.log_responses:
            self.print_response(query_id=query_id, response=response)
        return response

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> PortalSQLiteTransaction:
        return PortalSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )
