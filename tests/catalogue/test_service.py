"""The catalogue service against the session database, which the test set-up seeded once.

Tests that change a service put it back in ``finally``; tests that need an empty catalogue work
inside a transaction that is always rolled back.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from portal.catalogue.fields import KINDS
from portal.catalogue.service import (
    DEFAULT_SERVICES,
    get_active_service,
    list_active_services,
    seed_default_services,
)
from portal.db import current_engine
from portal.kernel.offices import OfficeRef
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.service import Service
from tests.conftest import fresh
from tests.offices import create_office

T = TypeVar("T")

pytestmark = pytest.mark.usefixtures("database")

OFFICE = OfficeRef(id=DEFAULT_OFFICE_ID, slug="default", name="เทศบาลตำบลตัวอย่าง")
"""The default office: the catalogue functions only look at its id."""

DEFAULT_SLUGS = [
    "general-request",
    "complaint",
    "street-light",
    "rubbish",
    "official-information",
    "elderly-allowance",
]


class _RollBack(Exception):
    pass


def rolled_back(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` in a transaction that is rolled back whatever happens."""

    async def attempt() -> T:
        result: T
        try:
            async with current_engine().transaction():
                result = await work()
                raise _RollBack
        except _RollBack:
            pass
        return result

    return fresh(attempt)


def slugs() -> list[str]:
    return [service.slug for service in fresh(list_active_services(office=OFFICE))]


def test_default_catalogue_has_six_services_in_file_order() -> None:
    assert slugs() == DEFAULT_SLUGS


def test_general_request_is_named_in_thai() -> None:
    service = fresh(get_active_service("general-request", office=OFFICE))
    assert service is not None
    assert service.name == "แจ้งคำร้องทั่วไป"
    assert [field.name for field in service.fields] == [
        "title",
        "first_name",
        "last_name",
        "citizen_id",
        "address",
        "subject",
        "details",
    ]


def test_seeding_again_adds_nothing() -> None:
    before = fresh(Service.count())
    assert fresh(seed_default_services()) == 0
    assert fresh(Service.count()) == before == 6


def test_every_seeded_form_definition_parses() -> None:
    for service in fresh(list_active_services(office=OFFICE)):
        assert service.fields, service.slug
        names = [field.name for field in service.fields]
        assert len(names) == len(set(names)), service.slug
        for field in service.fields:
            assert field.kind in KINDS
            assert field.label
            assert field.limit > 0
            if field.kind == "select":
                assert field.options, (service.slug, field.name)


def test_seeding_an_empty_catalogue_adds_the_default_services() -> None:
    async def seed_empty() -> tuple[int, list[str]]:
        await Service.delete().where(Service.office == DEFAULT_OFFICE_ID)
        added = await seed_default_services()
        return added, [service.slug for service in await list_active_services(office=OFFICE)]

    added, seeded = rolled_back(seed_empty)
    assert added == 6
    assert seeded == DEFAULT_SLUGS
    assert slugs() == DEFAULT_SLUGS  # the rollback left the session catalogue alone


def test_broken_definition_in_the_seed_file_saves_nothing(tmp_path: Path) -> None:
    definitions = json.loads(DEFAULT_SERVICES.read_text(encoding="utf-8"))
    definitions[3]["form_fields"] = [{"name": "photo", "label": "รูปถ่าย", "kind": "file"}]
    broken = tmp_path / "services.json"
    broken.write_text(json.dumps(definitions, ensure_ascii=False), encoding="utf-8")

    async def seed_broken() -> int:
        await Service.delete(force=True)
        with pytest.raises(ValueError, match="unknown field kind"):
            await seed_default_services(broken)
        return await Service.count()

    assert rolled_back(seed_broken) == 0


@contextmanager
def service_changed(slug: str, **values: object) -> Iterator[None]:
    """Change columns of one seeded service for the length of a ``with`` block."""
    service = fresh(Service.objects().get(Service.slug == slug))
    assert service is not None
    old = {name: getattr(service, name) for name in values}
    for name, value in values.items():
        setattr(service, name, value)
    fresh(service.save())
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(service, name, value)
        fresh(service.save())


def test_sort_order_decides_the_menu_order() -> None:
    with service_changed("rubbish", sort_order=-1):
        assert slugs() == ["rubbish", *(slug for slug in DEFAULT_SLUGS if slug != "rubbish")]
    assert slugs() == DEFAULT_SLUGS


def test_inactive_service_is_hidden() -> None:
    with service_changed("complaint", active=False):
        assert "complaint" not in slugs()
        assert len(slugs()) == 5
        assert fresh(get_active_service("complaint", office=OFFICE)) is None
    assert fresh(get_active_service("complaint", office=OFFICE)) is not None


def test_unknown_slug_has_no_service() -> None:
    assert fresh(get_active_service("no-such-service", office=OFFICE)) is None


def test_each_office_sees_only_its_own_catalogue() -> None:
    """Slugs are unique per office: office B's ``general-request`` is B's, and a slug only B
    has is, at A, exactly a missing slug."""

    async def set_up() -> int:
        office_b = await create_office("b", name="เทศบาลตำบลบี")
        await Service.update({Service.slug: "b-only", Service.name: "บริการของบี"}).where(
            Service.office == office_b, Service.slug == "complaint"
        )
        await Service.update({Service.name: "คำร้องของบี"}).where(
            Service.office == office_b, Service.slug == "general-request"
        )
        return office_b

    office_b = fresh(set_up)
    b = OfficeRef(id=office_b, slug="b", name="เทศบาลตำบลบี")
    assert fresh(get_active_service("b-only", office=OFFICE)) is None
    assert fresh(get_active_service("b-only", office=b)) is not None
    own = fresh(get_active_service("general-request", office=OFFICE))
    theirs = fresh(get_active_service("general-request", office=b))
    assert own is not None and theirs is not None and own.id != theirs.id
    assert own.name == "แจ้งคำร้องทั่วไป" and theirs.name == "คำร้องของบี"
    assert slugs() == DEFAULT_SLUGS
    b_slugs = [service.slug for service in fresh(list_active_services(office=b))]
    assert "b-only" in b_slugs and "complaint" not in b_slugs
    missing = OfficeRef(id=office_b + 1000, slug="none", name="")
    assert fresh(list_active_services(office=missing)) == []


def test_seeding_counts_per_office() -> None:
    """A new office gets the standard forms even though office 1 has services already."""

    async def seed() -> tuple[int, int]:
        office_b = await create_office("c", services=False)
        added = await seed_default_services(office_id=office_b)
        again = await seed_default_services(office_id=office_b)
        return added, again

    assert fresh(seed) == (6, 0)
