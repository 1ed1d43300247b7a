"""The back-office fixtures (staff tables emptied, a fixed sign-in clock) for these tests."""

from tests.staff.conftest import clock, staff_tables

__all__ = ["clock", "staff_tables"]
