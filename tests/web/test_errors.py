"""Server errors: logged for operators, without the secrets some paths carry."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from litestar import Litestar
from litestar.testing import TestClient

TOKEN = "SeCrEtTrackingToken0123456789abcdefABCDEF"


@pytest.mark.parametrize(
    ("failure", "status", "level"),
    [
        (RuntimeError("a bug"), 500, logging.ERROR),
        (sqlite3.OperationalError("database is locked"), 503, logging.WARNING),
    ],
)
def test_errors_on_a_tracking_link_log_the_path_without_its_token(
    client: TestClient[Litestar],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
    status: int,
    level: int,
) -> None:
    async def broken(token: str, **scope: object) -> None:
        raise failure

    monkeypatch.setattr("portal.tracking.routes.find_by_token", broken)
    with caplog.at_level(logging.WARNING, logger="portal"):
        response = client.get(f"/t/{TOKEN}")
    assert response.status_code == status
    (record,) = [r for r in caplog.records if r.name == "portal" and r.levelno == level]
    assert "/t/[redacted]" in record.getMessage()
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
