"""Casework tests act as staff: the staff tables are emptied per test, as in the back office's
own tests (``tests/staff/conftest.py``)."""

from __future__ import annotations

from tests.staff.conftest import staff_tables

__all__ = ["staff_tables"]
