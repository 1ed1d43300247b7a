"""Platform fixtures: staff tables emptied per test (accounts are made per test), a fixed clock
for signing in, and a platform admin of the default office."""

from __future__ import annotations

import pytest

from portal.settings import Settings
from tests.conftest import RunDb, fresh
from tests.staff.helpers import Clock, Staff, empty_staff_tables, make_staff


@pytest.fixture(autouse=True)
def staff_tables(database: str) -> None:
    fresh(empty_staff_tables())


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock()
    for where in ("staff.sign_in", "kernel.audit", "staff.enrolment", "staff.own_password"):
        monkeypatch.setattr(f"portal.{where}.utcnow", fixed)
    return fixed


@pytest.fixture
def platform_admin(run_db: RunDb, settings: Settings) -> Staff:
    return make_staff(run_db, settings, "platform", role="platform_admin")
