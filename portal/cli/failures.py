"""Which failures of a ``portal`` command are the operator's to fix, told in one line.

A database that does not answer, refuses the password or has not been migrated is not a bug:
the operator gets one English line naming the setting to look at and exit 1. Anything else
(a programming error) is left to raise with its traceback, loud, as it should be.
"""

from __future__ import annotations

import socket
import sqlite3

import asyncpg.exceptions

from portal.ops.checks import short_reason

UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,  # wrong user or password
    asyncpg.exceptions.InvalidCatalogNameError,  # no such database
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ClientCannotConnectError,
)
NOT_MIGRATED = (asyncpg.exceptions.UndefinedTableError,)


def _causes(error: BaseException) -> list[BaseException]:
    """``error`` and what it was explicitly raised from (``raise ... from``), never what it
    merely happened during: a bug in an ``except`` block must not pass for a database failure."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__
    return chain


def operational_failure(error: BaseException) -> str | None:
    """The one line for an operator's failure, or None for a bug that must keep its traceback."""
    for cause in _causes(error):
        reason = short_reason(cause)
        if isinstance(cause, NOT_MIGRATED) or (
            isinstance(cause, sqlite3.OperationalError) and "no such table" in str(cause)
        ):
            return (
                f"the database is not migrated (PORTAL_DATABASE_URL: {reason}); run portal migrate"
            )
        if isinstance(cause, UNREACHABLE) or (
            # asyncio's error when every address of a host name refused
            isinstance(cause, OSError) and str(cause).startswith("Multiple exceptions")
        ):
            return f"cannot reach the database (PORTAL_DATABASE_URL): {reason}"
        if isinstance(cause, sqlite3.OperationalError):
            return f"database error (PORTAL_DATABASE_URL): {reason}"
    return None
