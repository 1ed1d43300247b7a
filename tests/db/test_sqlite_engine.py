"""The SQLite engine's persistent connections: isolation, transactions, locking, lifetime.

These run on their own SQLite file in every test run (also the PostgreSQL one): the engine is
what the embedded default runs on, whatever database the rest of the suite uses.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.sqlite import TransactionType
from piccolo.querystring import QueryString

from portal.db import configure_database
from portal.db_engines import SQLITE_BUSY_TIMEOUT_S
from portal.sqlite_engine import PortalSQLiteEngine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[PortalSQLiteEngine]:
    path = tmp_path / "engine.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        setup.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
        setup.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        setup.execute(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent)"
        )
    engine = PortalSQLiteEngine(str(path), busy_timeout_s=SQLITE_BUSY_TIMEOUT_S)
    yield engine
    engine.close_all()


def q(sql: str, *args: Any) -> QueryString:
    return QueryString(sql, *args)


async def counter(engine: PortalSQLiteEngine) -> int:
    rows = await engine.run_querystring(q("SELECT n FROM counter WHERE id = 1"))
    return int(rows[0]["n"])


def test_queries_reuse_two_connections(engine: PortalSQLiteEngine) -> None:
    opened: list[str] = []
    writer, reader = engine.connect_writer, engine.connect_reader

    def count_writer() -> sqlite3.Connection:
        opened.append("writer")
        return writer()

    def count_reader() -> sqlite3.Connection:
        opened.append("reader")
        return reader()

    engine.connect_writer = count_writer  # type: ignore[method-assign]
    engine.connect_reader = count_reader  # type: ignore[method-assign]

    async def go() -> int:
        for _ in range(50):
            await engine.run_querystring(q("UPDATE counter SET n = n + 1 WHERE id = 1"))
            await counter(engine)
            async with engine.transaction(transaction_type=TransactionType.immediate):
                await engine.run_querystring(q("UPDATE counter SET n = n + 1 WHERE id = 1"))
        return await counter(engine)

    assert asyncio.run(go()) == 100
    assert sorted(opened) == ["reader", "writer"]


def test_a_read_never_sees_another_transactions_uncommitted_write(
    engine: PortalSQLiteEngine,
) -> None:
    async def go() -> tuple[int, int, int]:
        written = asyncio.Event()
        release = asyncio.Event()

        async def writer() -> None:
            async with engine.transaction(transaction_type=TransactionType.immediate):
                await engine.run_querystring(q("UPDATE counter SET n = 41 WHERE id = 1"))
                written.set()
                await release.wait()
                await engine.run_querystring(q("UPDATE counter SET n = 42 WHERE id = 1"))

        task = asyncio.create_task(writer())
        await written.wait()
        during = await counter(engine)  # the transaction is open, half done
        release.set()
        await task
        after = await counter(engine)
        return during, after, await counter(engine)

    assert asyncio.run(go()) == (0, 42, 42)


def test_an_outside_write_waits_for_the_open_transaction_and_is_not_part_of_it(
    engine: PortalSQLiteEngine,
) -> None:
    async def go() -> int:
        written = asyncio.Event()

        async def failing() -> None:
            async with engine.transaction(transaction_type=TransactionType.immediate):
                await engine.run_querystring(q("UPDATE counter SET n = n + 100 WHERE id = 1"))
                written.set()
                await asyncio.sleep(0.05)  # the other write queues meanwhile
                raise RuntimeError("rolled back")

        task = asyncio.create_task(failing())
        await written.wait()
        await engine.run_querystring(q("UPDATE counter SET n = n + 1 WHERE id = 1"))
        with pytest.raises(RuntimeError):
            await task
        return await counter(engine)

    assert asyncio.run(go()) == 1  # the outside write survived the rollback; the 100 did not


def test_nested_transactions_join_the_outer_one(engine: PortalSQLiteEngine) -> None:
    async def go() -> int:
        with pytest.raises(RuntimeError):
            async with engine.transaction(transaction_type=TransactionType.immediate) as outer:
                async with engine.transaction() as inner:
                    assert inner is outer
                    await engine.run_querystring(q("UPDATE counter SET n = 7 WHERE id = 1"))
                raise RuntimeError("the outer transaction fails after the inner one ended")
        return await counter(engine)

    assert asyncio.run(go()) == 0


def test_savepoints_roll_back_part_of_a_transaction(engine: PortalSQLiteEngine) -> None:
    async def go() -> int:
        async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
            await engine.run_querystring(q("UPDATE counter SET n = 1 WHERE id = 1"))
            savepoint = await txn.savepoint()
            await engine.run_querystring(q("UPDATE counter SET n = 2 WHERE id = 1"))
            await savepoint.rollback_to()
        return await counter(engine)

    assert asyncio.run(go()) == 1


def test_concurrent_read_then_write_transactions_lose_no_update(
    engine: PortalSQLiteEngine,
) -> None:
    async def increment() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            n = await counter(engine)
            await asyncio.sleep(0)  # let every other task try to get in between
            await engine.run_querystring(q("UPDATE counter SET n = {} WHERE id = 1", n + 1))

    async def go() -> int:
        await asyncio.gather(*(increment() for _ in range(200)))
        return await counter(engine)

    assert asyncio.run(go()) == 200


def test_a_failed_commit_or_statement_leaves_the_writer_usable(
    engine: PortalSQLiteEngine,
) -> None:
    async def go() -> list[int]:
        with pytest.raises(sqlite3.IntegrityError):
            await engine.run_querystring(q("INSERT INTO child (id, parent) VALUES (1, 99)"))
        with pytest.raises(sqlite3.IntegrityError):
            async with engine.transaction(transaction_type=TransactionType.immediate):
                await engine.run_querystring(q("INSERT INTO parent (id) VALUES (1)"))
                await engine.run_querystring(q("INSERT INTO child (id, parent) VALUES (1, 99)"))
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await engine.run_querystring(q("INSERT INTO parent (id) VALUES (2)"))
        rows = await engine.run_querystring(q("SELECT id FROM parent"))
        return [int(row["id"]) for row in rows]

    assert asyncio.run(go()) == [2]  # foreign keys are enforced; the failed one left nothing


def test_a_cancelled_transaction_rolls_back_and_frees_the_writer(
    engine: PortalSQLiteEngine,
) -> None:
    async def go() -> int:
        written = asyncio.Event()

        async def slow() -> None:
            async with engine.transaction(transaction_type=TransactionType.immediate):
                await engine.run_querystring(q("UPDATE counter SET n = 99 WHERE id = 1"))
                written.set()
                await asyncio.sleep(10)

        task = asyncio.create_task(slow())
        await written.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await engine.run_querystring(q("UPDATE counter SET n = n + 1 WHERE id = 1"))
        return await counter(engine)

    assert asyncio.run(asyncio.wait_for(go(), 10)) == 1


def test_the_reader_refuses_writes(engine: PortalSQLiteEngine) -> None:
    async def go() -> None:
        await engine.connections().reader.execute("UPDATE counter SET n = 5 WHERE id = 1")

    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        asyncio.run(go())


def test_each_event_loop_gets_its_own_connections_and_closed_loops_give_theirs_back(
    engine: PortalSQLiteEngine,
) -> None:
    async def write_and_count() -> int:
        await engine.run_querystring(q("UPDATE counter SET n = n + 1 WHERE id = 1"))
        return len(engine._loops)

    assert asyncio.run(write_and_count()) == 1
    assert asyncio.run(write_and_count()) == 1  # the first loop's pair was closed
    assert asyncio.run(counter(engine)) == 2


def test_open_and_close_at_start_up_and_shutdown(engine: PortalSQLiteEngine) -> None:
    async def go() -> tuple[int, int]:
        await engine.open()
        opened = len(engine._loops)
        await engine.close()
        return opened, len(engine._loops)

    assert asyncio.run(go()) == (1, 0)


def test_configuring_the_same_file_again_keeps_the_engine(tmp_path: Path, database: str) -> None:
    url = f"sqlite:///{tmp_path / 'again.sqlite3'}"
    try:
        first = configure_database(url)
        assert configure_database(url) is first
        assert configure_database(f"sqlite:///{tmp_path / 'other.sqlite3'}") is not first
    finally:
        configure_database(database)
