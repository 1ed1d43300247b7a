"""Connections are opened at start-up and closed at shutdown, sized from the environment."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from litestar.testing import TestClient

from portal.app import create_app
from portal.db import current_engine
from portal.db_engines import PoolSize, PortalPostgresEngine
from portal.settings import SettingsError
from portal.sqlite_engine import PortalSQLiteEngine
from tests.conftest import make_settings


def test_pool_sizes_come_from_the_environment(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, "sqlite:///x", PORTAL_DATABASE_POOL_MIN="1", PORTAL_DATABASE_POOL_MAX="3"
    )
    assert (settings.database_pool_min, settings.database_pool_max) == (1, 3)
    defaults = make_settings(tmp_path, "sqlite:///x")
    assert (defaults.database_pool_min, defaults.database_pool_max) == (2, 10)


@pytest.mark.parametrize(
    ("low", "high"), [("5", "4"), ("0", "4"), ("1", "many")], ids=["min>max", "zero", "words"]
)
def test_nonsense_pool_sizes_refuse_to_start(tmp_path: Path, low: str, high: str) -> None:
    with pytest.raises(SettingsError):
        make_settings(
            tmp_path, "sqlite:///x", PORTAL_DATABASE_POOL_MIN=low, PORTAL_DATABASE_POOL_MAX=high
        )


def test_the_app_opens_its_connections_at_start_up_and_closes_them_at_shutdown(
    tmp_path: Path, database: str
) -> None:
    settings = make_settings(
        tmp_path, database, PORTAL_DATABASE_POOL_MIN="1", PORTAL_DATABASE_POOL_MAX="3"
    )
    app = create_app(settings)
    engine = current_engine()
    with TestClient(app=app) as client:
        portal = client.blocking_portal
        assert portal is not None
        loop = portal.call(asyncio.get_running_loop)
        if isinstance(engine, PortalPostgresEngine):
            assert engine.pool is not None
            assert engine.pool.get_max_size() == 3
            assert engine.pool.get_min_size() == 1
        else:
            assert isinstance(engine, PortalSQLiteEngine)
            assert loop in engine._loops
        assert client.get("/e-service").status_code == 200
    if isinstance(engine, PortalPostgresEngine):
        assert engine.pool is None
    else:
        assert loop not in engine._loops


def test_lock_and_statement_timeouts_come_from_the_environment(tmp_path: Path) -> None:
    defaults = PoolSize.from_settings(make_settings(tmp_path, "sqlite:///x"))
    assert (defaults.lock_timeout_s, defaults.statement_timeout_s) == (5, 15)
    assert defaults.server_settings() == {"lock_timeout": "5000", "statement_timeout": "15000"}
    chosen = PoolSize.from_settings(
        make_settings(
            tmp_path,
            "sqlite:///x",
            PORTAL_DATABASE_LOCK_TIMEOUT="2",
            PORTAL_DATABASE_STATEMENT_TIMEOUT="30",
        )
    )
    assert chosen.server_settings() == {"lock_timeout": "2000", "statement_timeout": "30000"}


@pytest.mark.parametrize(
    "name", ["PORTAL_DATABASE_LOCK_TIMEOUT", "PORTAL_DATABASE_STATEMENT_TIMEOUT"]
)
@pytest.mark.parametrize("value", ["0", "-1", "5s", ""])
def test_nonsense_timeouts_refuse_to_start(tmp_path: Path, name: str, value: str) -> None:
    """0 would turn the limit off: a held lock would hang pages again."""
    with pytest.raises(SettingsError):
        make_settings(tmp_path, "sqlite:///x", **{name: value})
