"""Test phones for the PDPA tests (080-000-4000 .. 080-000-4999) and small row helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from portal.tables.citizen_request import CitizenRequest
from tests.conftest import RunDb

CITIZEN_ID = "1234567890121"
MASKED_ID = "x-xxxx-xxxxx-12-1"


def phone(n: int) -> tuple[str, str]:
    """Test number ``n`` (0..999): (national, E.164)."""
    assert 0 <= n <= 999
    digits = f"80000{4000 + n:04d}"
    return "0" + digits, "+66" + digits


def raw_request(run_db: RunDb, number: str) -> dict[str, Any]:
    row: dict[str, Any] = run_db(
        lambda: CitizenRequest.select().where(CitizenRequest.number == number).first()
    )
    assert row is not None
    return row


def close_and_age(run_db: RunDb, number: str, status: str, when: datetime) -> None:
    """As if staff closed the request (or not) and nothing changed since ``when``."""
    run_db(
        lambda: CitizenRequest.update(
            {CitizenRequest.status: status, CitizenRequest.updated_at: when}
        ).where(CitizenRequest.number == number)
    )
