"""The shared library of standard forms: valid, and adopted as each office's own copy."""

from __future__ import annotations

import json

import pytest

from portal.catalogue.admin import ICONS
from portal.catalogue.library import UnknownForm, adopt, library, standard_slugs
from portal.catalogue.service import DEFAULT_SERVICES, load_fields
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.service import Service
from tests.conftest import fresh
from tests.offices import create_office


def _services(office_id: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = fresh(
        Service.select(Service.slug, Service.name, Service.sort_order)
        .where(Service.office == office_id)
        .order_by(Service.sort_order)
    )
    return rows


def test_every_library_form_is_valid_and_the_standard_set_is_todays_defaults() -> None:
    forms = library()
    assert len({form.slug for form in forms}) == len(forms)
    for form in forms:
        assert load_fields(form.data["form_fields"]), form.slug
        assert form.data.get("icon", "document") in ICONS, form.slug
        assert form.name and form.name_en, form.slug
    defaults = [item["slug"] for item in json.loads(DEFAULT_SERVICES.read_text("utf-8"))]
    assert standard_slugs() == defaults
    extra = {form.slug for form in forms if not form.standard}
    assert {"building-permit", "disability-allowance", "road-repair"} <= extra


@pytest.mark.usefixtures("database")
def test_adopting_copies_the_standard_set_once_in_order() -> None:
    office_id = fresh(create_office("nongbua", services=False))
    assert fresh(adopt(office_id)) == standard_slugs()
    rows = _services(office_id)
    assert [row["slug"] for row in rows] == standard_slugs()
    assert [row["sort_order"] for row in rows] == list(range(len(rows)))
    # Again: nothing more (the office already has every one).
    assert fresh(adopt(office_id)) == []
    assert len(_services(office_id)) == len(rows)


@pytest.mark.usefixtures("database")
def test_an_adopted_form_is_the_offices_own_copy() -> None:
    office_id = fresh(create_office("nongbua"))
    fresh(
        Service.update({Service.name: "คำร้องทั่วไป (ฉบับของเรา)"}).where(
            (Service.office == office_id) & (Service.slug == "general-request")
        )
    )
    added = fresh(adopt(office_id, ["general-request", "building-permit"]))
    assert added == ["building-permit"]
    rows = {row["slug"]: row for row in _services(office_id)}
    assert rows["general-request"]["name"] == "คำร้องทั่วไป (ฉบับของเรา)"
    assert rows["building-permit"]["sort_order"] == len(standard_slugs())
    # The default office's catalogue is untouched by another office's adoption.
    default = {row["slug"] for row in _services(DEFAULT_OFFICE_ID)}
    assert "building-permit" not in default
    assert rows["general-request"]["name"] != next(
        row["name"] for row in _services(DEFAULT_OFFICE_ID) if row["slug"] == "general-request"
    )


@pytest.mark.usefixtures("database")
def test_an_unknown_form_adopts_nothing() -> None:
    office_id = fresh(create_office("nongbua", services=False))
    with pytest.raises(UnknownForm):
        fresh(adopt(office_id, ["road-repair", "no-such-form"]))
    assert _services(office_id) == []
