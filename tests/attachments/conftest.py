"""The back-office fixtures (staff tables emptied, a fixed sign-in clock) for these tests.

Upload refusals left by another test (they count toward a phone's upload quota) are emptied
with the rest by the shared ``database`` fixture (``tests/conftest.py``)."""

from tests.staff.conftest import clock, staff_tables

__all__ = ["clock", "staff_tables"]
