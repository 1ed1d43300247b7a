"""The ``location`` field: a point from the phone, a typed place, or both (issue 9)."""

from __future__ import annotations

import json

import pytest

from portal.catalogue.admin import CatalogueError, ServiceDraft
from portal.catalogue.admin import validate as validate_service
from portal.catalogue.fields import FormField, validate
from portal.catalogue.location import Place, parse_place

FIELD = FormField(name="location", label="ตำแหน่ง", kind="location")


def _parse(required: bool = False, **raw: str) -> tuple[Place | None, str | None]:
    _, place, code = parse_place(
        "location", {f"location_{k}": v for k, v in raw.items()}, required=required
    )
    return place, code


def test_a_point_and_a_typed_place_are_kept_together() -> None:
    place, code = _parse(lat="13.7563309", lng="100.5017651", village=" หมู่ 3 ", province="กรุงเทพฯ")
    assert code is None and place is not None
    assert (place.lat, place.lng) == (13.756331, 100.501765)
    assert place.text == "หมู่ 3, กรุงเทพฯ"
    assert place.map_url == "https://www.google.com/maps/search/?api=1&query=13.756331,100.501765"
    assert place.geo_url == "geo:13.756331,100.501765?q=13.756331,100.501765"


def test_a_typed_place_alone_has_no_map_links() -> None:
    place, code = _parse(subdistrict="ในเมือง", district="เมือง")
    assert code is None and place is not None
    assert not place.has_point and place.map_url == "" and place.text == "ในเมือง, เมือง"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"lat": "13.7"}, "location_point"),
        ({"lat": "abc", "lng": "100.5"}, "location_point"),
        ({"lat": "1e2", "lng": "100.5"}, "location_point"),
        ({"lat": "NaN", "lng": "100.5"}, "location_point"),
        ({"lat": "13.7", "lng": "100.5\x00"}, None),
        ({"lat": "91", "lng": "100.5"}, "location_outside"),
        ({"lat": "48.8566", "lng": "2.3522"}, "location_outside"),
        ({"lat": "-13.7", "lng": "100.5"}, "location_outside"),
        ({"village": "ก" * 101}, "location_too_long"),
    ],
)
def test_bad_places_get_a_code(raw: dict[str, str], code: str | None) -> None:
    assert _parse(**raw)[1] == code


def test_nothing_given_is_fine_unless_required() -> None:
    assert _parse() == (None, None)
    assert _parse(required=True) == (None, "required")


def test_the_form_keeps_the_place_out_of_the_answers() -> None:
    fields = [FormField(name="details", label="รายละเอียด", kind="textarea"), FIELD]
    result = validate(fields, {"details": "ไฟดับ", "location_lat": "13.7", "location_lng": "100.5"})
    assert result.ok and result.place is not None and result.place.lat == 13.7
    assert result.answers == {"details": "ไฟดับ"}
    assert result.values["location_lat"] == "13.7"  # shown again on a re-render


def _draft(fields: list[dict[str, object]]) -> ServiceDraft:
    return ServiceDraft(
        slug="photos-test",
        name="ทดสอบ",
        summary="",
        icon="document",
        target_days="7",
        sort_order="0",
        active=True,
        form_fields=json.dumps(fields, ensure_ascii=False),
    )


def test_the_catalogue_editor_accepts_and_checks_the_new_kinds() -> None:
    ok = [
        {"name": "photos", "label": "รูป", "kind": "attachments", "max_files": 3},
        {"name": "where", "label": "ที่", "kind": "location"},
    ]
    validate_service(_draft(ok))
    for bad, code in (
        (
            [{"name": "photos", "label": "รูป", "kind": "attachments", "max_files": 11}],
            "field_max_files",
        ),
        ([ok[0], {**ok[0], "name": "more"}], "field_kind_twice"),
        ([ok[1], {**ok[1], "name": "again"}], "field_kind_twice"),
        ([{"name": "x", "label": "x", "kind": "camera"}], "field_invalid"),
    ):
        with pytest.raises(CatalogueError) as caught:
            validate_service(_draft(bad))
        assert caught.value.code == code
    assert FormField.from_data(ok[0]).file_limit == 3
    assert FormField.from_data({"name": "p", "label": "p", "kind": "attachments"}).file_limit == 5
