"""The back-office fixtures (staff tables emptied, a fixed sign-in clock) for these tests, and
no upload refusals left from another test (they count toward a phone's upload quota)."""

import asyncio

import pytest

from portal.tables.upload_refusal import UploadRefusal
from tests.staff.conftest import clock, staff_tables

__all__ = ["clock", "no_refusals", "staff_tables"]


@pytest.fixture(autouse=True)
def no_refusals(database: str) -> None:
    asyncio.run(UploadRefusal.delete(force=True).run())
