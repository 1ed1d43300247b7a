"""Admin changes to the catalogue are validated exactly as citizen forms will read them."""

from __future__ import annotations

import json

import pytest

from portal.catalogue.admin import CatalogueError, ServiceDraft, draft_for, save_service
from portal.catalogue.service import get_active_service, list_active_services
from portal.db import write_transaction
from portal.tables.service import Service
from tests.conftest import fresh

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


async def _save(draft: ServiceDraft, existing_id: int | None = None) -> int:
    async with write_transaction():
        return await save_service(draft, existing_id)


@pytest.fixture
def cleanup(database: str) -> object:
    yield

    async def remove() -> None:
        await Service.delete().where(Service.slug == "tree-trimming")

    fresh(remove)


def test_new_service_appears_on_the_menu_with_its_form(cleanup: object) -> None:
    fresh(_save(_draft()))
    service = fresh(get_active_service("tree-trimming"))
    assert service is not None
    assert [f.name for f in service.fields] == ["first_name", "place", "kind"]
    assert service.target_days == 10
    assert "tree-trimming" in [s.slug for s in fresh(list_active_services)]


def test_retired_service_leaves_the_menu_but_keeps_its_definition(cleanup: object) -> None:
    service_id = fresh(_save(_draft()))
    fresh(_save(_draft(active=False), service_id))
    assert fresh(get_active_service("tree-trimming")) is None
    draft = fresh(draft_for(service_id))
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
