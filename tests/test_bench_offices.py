"""The many-office benchmark's database (``bench/office_data.py``) is one the portal reads as
its own: each office found by its host, with its own services, requests, events and SMS.

The full benchmark (``bench/run offices``) takes minutes; this checks what it builds on. The
benchmark builds SQLite files, so these tests build one of their own (in the PostgreSQL run
too) and point the engine back at the shared test database afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.office_data import host_of, populate_sqlite, zipf_sizes
from bench.office_lookup import lookup_costs
from portal.catalogue.service import seed_default_services
from portal.db import configure_database, migrate
from portal.kernel.offices import OfficeDirectory
from portal.settings import Settings
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.request_event import RequestEvent
from portal.tables.service import Service
from portal.tables.sms_message import SmsMessage
from tests.conftest import fresh, make_settings


@pytest.fixture
def bench_database(tmp_path: Path, database_url: str) -> Iterator[tuple[str, Settings]]:
    """A fresh, migrated and seeded SQLite file, as ``bench/offices.py`` starts from."""
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    configure_database(url)
    fresh(migrate)
    fresh(seed_default_services)
    try:
        yield url, make_settings(tmp_path, url)
    finally:
        configure_database(database_url)


def test_the_spread_is_a_few_large_offices_and_many_small_ones() -> None:
    sizes = zipf_sizes(1000, 100_000, 20_000)
    assert len(sizes) == 1000
    assert sizes[0] == 20_000
    assert sizes == sorted(sizes, reverse=True)
    assert abs(sum(sizes) - 100_000) <= 1000
    assert sizes[len(sizes) // 2] < 100  # most offices have tens of requests
    assert sum(1 for s in sizes if s > 1000) < 20
    assert min(sizes) >= 1


def test_the_built_offices_are_offices_the_portal_serves(
    bench_database: tuple[str, Settings],
) -> None:
    database, settings = bench_database
    sizes = [7, 3, 1]
    built = populate_sqlite(database.removeprefix("sqlite:///"), sizes, services=10)
    assert built["offices"] == 3 and built["requests"] == 11

    async def read() -> None:
        directory = OfficeDirectory(settings)
        default = await directory.for_host("127.0.0.1")
        assert default is not None and default.id == DEFAULT_OFFICE_ID
        for rank, size in enumerate(sizes, start=1):
            office = await directory.for_host(host_of(rank))
            assert office is not None and office.slug == f"o{rank}" and office.active
            services = await Service.select(Service.slug).where(Service.office == office.id)
            slugs = [row["slug"] for row in services]
            assert len(slugs) == len(set(slugs)) == 10
            assert "general-request" in slugs
            requests = await CitizenRequest.select(
                CitizenRequest.id, CitizenRequest.number, CitizenRequest.service
            ).where(CitizenRequest.office == office.id)
            assert len(requests) == size
            assert len({row["number"] for row in requests}) == size
            service_ids = set(
                await Service.select(Service.id)
                .where(Service.office == office.id)
                .output(as_list=True)
            )
            assert {row["service"] for row in requests} <= service_ids
            assert await RequestEvent.count().where(RequestEvent.office == office.id) == size
            assert await SmsMessage.count().where(SmsMessage.office == office.id) == size
        assert await Service.count().where(Service.office == DEFAULT_OFFICE_ID) == 6

    fresh(read)


def test_hosts_and_small_spreads() -> None:
    assert host_of(12) == "o12.bench.test"
    assert zipf_sizes(0, 10, 5) == []
    # Every office has at least one request, so a total too small for them is exceeded.
    assert zipf_sizes(3, 3, 10) == [3, 1, 1]


def test_the_lookup_measure_finds_every_office_by_host(
    bench_database: tuple[str, Settings],
) -> None:
    database, settings = bench_database
    populate_sqlite(database.removeprefix("sqlite:///"), [2, 1, 1], services=6)
    costs = fresh(lookup_costs(settings, 3, 300))
    assert costs["offices_in_memory"] == 4
    assert costs["found"] == costs["lookups"] == 300
    assert costs["for_host_ms"]["p50"] > 0  # the target itself is the benchmark's to report
    assert costs["resolver_layer_ms"]["p50"] >= costs["no_layer_ms"]["p50"]
