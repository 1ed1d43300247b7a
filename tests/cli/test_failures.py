"""An operator's database failure is one line and exit 1; a bug keeps its traceback."""

from __future__ import annotations

import socket
import sqlite3

import asyncpg.exceptions
import pytest

from portal.cli import main
from portal.cli.failures import operational_failure


def test_a_refused_connection_is_unreachable() -> None:
    error = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")
    assert operational_failure(error) == (
        "cannot reach the database (PORTAL_DATABASE_URL): [Errno 111] Connect call failed"
        " ('127.0.0.1', 1)"
    )


def test_a_wrong_password_is_unreachable() -> None:
    error = asyncpg.exceptions.InvalidPasswordError('password authentication failed for user "x"')
    message = operational_failure(error)
    assert message is not None
    assert message.startswith("cannot reach the database (PORTAL_DATABASE_URL): password")


def test_a_missing_table_says_to_migrate() -> None:
    message = operational_failure(sqlite3.OperationalError("no such table: citizen_request"))
    assert message == (
        "the database is not migrated (PORTAL_DATABASE_URL: no such table: citizen_request);"
        " run portal migrate"
    )


def test_a_cause_raised_from_counts_but_one_merely_during_does_not() -> None:
    try:
        raise RuntimeError("migrations failed") from ConnectionRefusedError(111, "refused")
    except RuntimeError as wrapped:
        assert operational_failure(wrapped) is not None
    try:
        try:
            raise ConnectionRefusedError(111, "refused")
        except ConnectionRefusedError:
            raise KeyError("a bug in an except block") from None
    except KeyError as bug:
        assert operational_failure(bug) is None


@pytest.mark.parametrize("bug", [KeyError("x"), TypeError("x"), ValueError("x"), OSError("disk")])
def test_programming_errors_stay_loud(bug: Exception) -> None:
    assert operational_failure(bug) is None


def test_migrate_against_a_closed_port_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"postgresql://portal:pw@127.0.0.1:{port}/portal")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "k" * 16 + "0123456789abcdef")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "cannot reach the database (PORTAL_DATABASE_URL): [Errno 111] Connect call failed"
        f" ('127.0.0.1', {port})\n"
    )
