"""PDPA tests sign staff in: the back office's fixtures (staff tables emptied per test, one
fixed clock for sign-in and the audit log) come from ``tests/staff/conftest.py``."""

from __future__ import annotations

from tests.staff.conftest import clock, staff_tables

__all__ = ["clock", "staff_tables"]
