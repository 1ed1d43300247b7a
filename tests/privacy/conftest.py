"""PDPA tests sign staff in: the back-office tables are emptied per test and the sign-in
clock is fixed (as in ``tests/staff/conftest.py``)."""

from __future__ import annotations

import pytest

from tests.conftest import fresh
from tests.staff.helpers import Clock, empty_staff_tables


@pytest.fixture(autouse=True)
def staff_tables(database: str) -> None:
    fresh(empty_staff_tables())


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fixed = Clock()
    monkeypatch.setattr("portal.staff.sign_in.utcnow", fixed)
    return fixed
