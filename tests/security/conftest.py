"""Security tests share the back-office set-up: staff tables emptied per test and a fixed clock
for authenticator codes (see ``tests/staff/conftest.py``)."""

from __future__ import annotations

import asyncio

import pytest

from tests.staff.helpers import Clock, empty_staff_tables


@pytest.fixture(autouse=True)
def staff_tables(database: str) -> None:
    asyncio.run(empty_staff_tables())


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock()
    monkeypatch.setattr("portal.staff.sign_in.utcnow", fixed)
    return fixed
