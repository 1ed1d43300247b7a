"""Admin changes to the catalogue are validated exactly as citizen forms will read them."""

from __future__ import annotations

import json

import pytest

from portal.catalogue.admin import (
    CatalogueError,
    ServiceDraft,
    ServiceMissing,
    draft_for,
    list_all_services,
    save_service,
)
from portal.catalogue.service import get_active_service, list_active_services
from portal.db import write_transaction
from portal.kernel.offices import OfficeRef
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.service import Service
from tests.conftest import fresh
from tests.offices import create_office

OFFICE = OfficeRef(id=DEFAULT_OFFICE_ID, slug="default", name="เทศบาลตำบลตัวอย่าง")

FIELDS = json.dumps(
    [
        {"name": "first_name", "label": "ชื่อ", "kind": "text", "required": True},
        {"name": "place", "label": "สถานที่", "kind": "textarea", "required": True},
        {"name": "kind", "label": "ประเภท", "kind": "select", "options": ["ก", "ข"]},
    ],
    ensure_ascii=False,
)


def _draft(**changes: object) -> ServiceDraft:
    values: dict[str, object] = {
        "slug": "tree-trimming",
        "name": "แจ้งตัดแต่งกิ่งไม้",
        "summary": "กิ่งไม้บังไฟถนนหรือรุกล้ำสายไฟ",
        "icon": "lightbulb",
        "target_days": "10",
        "sort_order": "50",
        "active": True,
        "form_fields": FIELDS,
    }
    values.update(changes)
    return ServiceDraft(**values)  # type: ignore[arg-type]


async def _save(
    draft: ServiceDraft, existing_id: int | None = None, office: OfficeRef = OFFICE
) -> int:
    async with write_transaction():
        return await save_service(draft, existing_id, office=office)


@pytest.fixture
def cleanup(database: str) -> object:
    yield

    async def remove() -> None:
        await Service.delete().where(Service.slug == "tree-trimming")

    fresh(remove)


def test_new_service_appears_on_the_menu_with_its_form(cleanup: object) -> None:
    fresh(_save(_draft()))
    service = fresh(get_active_service("tree-trimming", office=OFFICE))
    assert service is not None
    assert [f.name for f in service.fields] == ["first_name", "place", "kind"]
    assert service.target_days == 10
    assert "tree-trimming" in [s.slug for s in fresh(list_active_services(office=OFFICE))]


def test_retired_service_leaves_the_menu_but_keeps_its_definition(cleanup: object) -> None:
    service_id = fresh(_save(_draft()))
    fresh(_save(_draft(active=False), service_id))
    assert fresh(get_active_service("tree-trimming", office=OFFICE)) is None
    draft = fresh(draft_for(service_id, office=OFFICE))
    assert draft is not None and not draft.active
    assert json.loads(draft.form_fields)[0]["name"] == "first_name"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"name": "  "}, "name"),
        ({"icon": "rocket"}, "icon"),
        ({"target_days": "0"}, "number_range"),
        ({"target_days": "abc"}, "number_range"),
        ({"form_fields": "{not json"}, "fields_not_json"),
        ({"form_fields": "[]"}, "fields_not_list"),
        ({"form_fields": '[{"name": "x", "label": "X", "kind": "file"}]'}, "field_invalid"),
        ({"form_fields": '[{"label": "no name"}]'}, "field_invalid"),
        ({"form_fields": '[{"name": "Bad Name", "label": "X"}]'}, "field_name"),
        (
            {"form_fields": '[{"name": "a", "label": "A"}, {"name": "a", "label": "B"}]'},
            "field_name",
        ),
        ({"form_fields": '[{"name": "a", "label": "A", "kind": "select"}]'}, "field_options"),
    ],
)
def test_broken_definitions_are_refused_and_nothing_is_saved(
    cleanup: object, changes: dict[str, object], code: str
) -> None:
    with pytest.raises(CatalogueError) as caught:
        fresh(_save(_draft(**changes)))
    assert caught.value.code == code

    async def count() -> int:
        return await Service.count().where(Service.slug == "tree-trimming")

    assert fresh(count) == 0


def test_a_taken_slug_is_refused(database: str) -> None:
    with pytest.raises(CatalogueError) as caught:
        fresh(_save(_draft(slug="general-request")))
    assert caught.value.code == "slug_taken"


def test_another_offices_service_cannot_be_seen_or_changed(cleanup: object) -> None:
    """Office B's service is, to office A's admin functions, a service that does not exist;
    and B may use a slug A uses."""
    office_b = fresh(create_office("b", name="เทศบาลตำบลบี"))
    b = OfficeRef(id=office_b, slug="b", name="เทศบาลตำบลบี")
    own = fresh(_save(_draft()))
    theirs = fresh(_save(_draft(name="ตัดกิ่งไม้ของบี"), office=b))  # the same slug, at B
    assert own != theirs
    assert fresh(draft_for(theirs, office=OFFICE)) is None
    assert fresh(draft_for(theirs, office=b)) is not None
    with pytest.raises(ServiceMissing):
        fresh(_save(_draft(name="เปลี่ยนโดยเอ"), theirs))
    kept = fresh(draft_for(theirs, office=b))
    assert kept is not None and kept.name == "ตัดกิ่งไม้ของบี"
    listed = {row.id for row in fresh(list_all_services(office=OFFICE))}
    assert own in listed and theirs not in listed
    assert {row.id for row in fresh(list_all_services(office=b))} >= {theirs}
    assert not listed & {row.id for row in fresh(list_all_services(office=b))}
