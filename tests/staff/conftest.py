"""Back-office fixtures: staff tables emptied per test, and a fixed clock for sign-in."""

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
    # Sign-in reads refused codes back from the audit log: one clock for both.
    for where in ("staff.sign_in", "kernel.audit", "staff.enrolment", "staff.own_password"):
        monkeypatch.setattr(f"portal.{where}.utcnow", fixed)
    return fixed
