"""Operations with several offices: the probes and ``/metrics`` answer on any host (they sit
outside the office resolver), and the business figures are the platform's totals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from portal.app import create_app
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.web.offices import offices_of
from tests.conftest import app_loop, fresh, make_settings
from tests.offices import add_host, create_office, office_ref
from tests.staff.helpers import file_direct

TOKEN = "metrics-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(tmp_path: Path, database: str) -> Litestar:
    return create_app(make_settings(tmp_path, database, PORTAL_METRICS_TOKEN=TOKEN))


@pytest.fixture
def two_offices(database: str) -> int:
    """The default office on ``eservice.example.go.th``, another on ``nongbua.example``, and
    disabled third one: every other host name is unknown."""
    fresh(add_host(DEFAULT_OFFICE_ID, "eservice.example.go.th"))
    office_id: int = fresh(create_office("nongbua", hosts=("nongbua.example",)))
    fresh(create_office("closed", hosts=("closed.example",), active=False))
    return office_id


@pytest.fixture
def unknown_host(app: Litestar, two_offices: int) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=app, base_url="http://unknown.example") as client:
        offices_of(app).forget()
        yield client


def test_probes_and_metrics_answer_on_a_host_no_office_has(
    unknown_host: TestClient[Litestar],
) -> None:
    assert unknown_host.get("/").status_code == 404  # the office resolver's plain 404
    assert unknown_host.get("/healthz").status_code == 200
    ready = unknown_host.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"
    assert unknown_host.get("/metrics", headers=BEARER).status_code == 200


def test_business_figures_are_totals_over_every_office(
    unknown_host: TestClient[Litestar], two_offices: int
) -> None:
    """One sample per service slug (the same standard form in two offices is added up, never
    two samples with the same labels), and the offices by state."""
    run_db = app_loop(unknown_host)  # PostgreSQL's pool belongs to the app's event loop
    nongbua = run_db(lambda: office_ref(two_offices))
    file_direct(run_db, "+66800000961", office=run_db(office_ref))
    file_direct(run_db, "+66800000962", office=nongbua)
    file_direct(run_db, "+66800000963", office=nongbua)
    text = unknown_host.get("/metrics", headers=BEARER).text
    filings = [
        sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "portal_filings_total"
    ]
    by_service = {sample.labels["service"]: sample.value for sample in filings}
    assert len(by_service) == len(filings)  # no duplicate label sets
    assert by_service["general-request"] == 3
    offices = {
        sample.labels["state"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "portal_offices"
    }
    assert offices == {"active": 2, "disabled": 1}
    limit = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "portal_sms_budget_limit"
    ]
    assert limit == [2000 * 2]  # no platform ceiling: both active offices' own budgets
