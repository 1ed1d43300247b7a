from __future__ import annotations

import pytest

from portal.catalogue.fields import FormField, FormResult, validate

NAME = FormField(name="first_name", label="ชื่อ", required=True, max_length=10)
NOTE = FormField(name="note", label="หมายเหตุ")
DETAILS = FormField(name="details", label="รายละเอียด", kind="textarea", max_length=20)
TITLE = FormField(
    name="title", label="คำนำหน้า", kind="select", required=True, options=("นาย", "นาง", "อื่น ๆ")
)
CITIZEN_ID = FormField(name="citizen_id", label="เลขประจำตัวประชาชน", kind="citizen_id")

FAKE_ID = "1234567890121"  # made up, correct check digit


def errors(result: FormResult) -> dict[str, str]:
    return {error.field.name: error.code for error in result.errors}


def test_good_answers_pass_and_are_kept() -> None:
    result = validate(
        [NAME, TITLE, CITIZEN_ID, DETAILS],
        {"first_name": "สมศรี", "title": "นาง", "citizen_id": FAKE_ID, "details": "ท่ออุดตัน"},
    )
    assert result.ok
    assert result.values == {
        "first_name": "สมศรี",
        "title": "นาง",
        "citizen_id": FAKE_ID,
        "details": "ท่ออุดตัน",
    }


@pytest.mark.parametrize(
    "raw", [{}, {"first_name": ""}, {"first_name": "   "}, {"first_name": "\u200b\x00"}]
)
def test_missing_required_answer_is_required(raw: dict[str, str]) -> None:
    result = validate([NAME], raw)
    assert errors(result) == {"first_name": "required"}
    assert result.error_for("first_name") is not None
    assert result.error_for("first_name").field is NAME


def test_empty_optional_answer_is_fine() -> None:
    result = validate([NOTE, CITIZEN_ID], {})
    assert result.ok
    assert result.values == {"note": "", "citizen_id": ""}


def test_answer_over_the_field_limit_is_too_long() -> None:
    assert validate([NAME], {"first_name": "ก" * 10}).ok
    assert errors(validate([NAME], {"first_name": "ก" * 11})) == {"first_name": "too_long"}


def test_fields_without_a_limit_use_the_default_for_their_kind() -> None:
    assert validate([NOTE], {"note": "x" * 200}).ok
    assert errors(validate([NOTE], {"note": "x" * 201})) == {"note": "too_long"}


def test_choice_not_offered_is_invalid_choice() -> None:
    result = validate([TITLE], {"title": "ดร."})
    assert errors(result) == {"title": "invalid_choice"}


def test_offered_choice_with_a_space_is_accepted() -> None:
    assert validate([TITLE], {"title": " อื่น  ๆ "}).values["title"] == "อื่น ๆ"


@pytest.mark.parametrize(
    "typed",
    [
        FAKE_ID,
        "1-2345-67890-12-1",
        "1 2345 67890 12 1",
        f" {FAKE_ID} ",
        "๑๒๓๔๕๖๗๘๙๐๑๒๑",  # Thai digits, as a Thai keyboard types them
        "๑-๒๓๔๕-67890-๑๒-1",
    ],
)
def test_citizen_id_may_be_typed_with_dashes_spaces_or_thai_digits(typed: str) -> None:
    result = validate([CITIZEN_ID], {"citizen_id": typed})
    assert result.ok
    assert result.values["citizen_id"] == FAKE_ID


@pytest.mark.parametrize(
    "typed", ["123456789012", "12345678901212", "12345678901a1", "๑๒๓๔๕๖๗๘๙๐๑๒", "¹234567890121"]
)
def test_citizen_id_that_is_not_thirteen_digits_is_a_format_error(typed: str) -> None:
    assert errors(validate([CITIZEN_ID], {"citizen_id": typed})) == {
        "citizen_id": "citizen_id_format"
    }


def test_citizen_id_with_a_wrong_check_digit_is_a_checksum_error() -> None:
    assert errors(validate([CITIZEN_ID], {"citizen_id": "1234567890122"})) == {
        "citizen_id": "citizen_id_checksum"
    }


def test_overlong_citizen_id_is_too_long() -> None:
    result = validate([CITIZEN_ID], {"citizen_id": FAKE_ID * 2})
    assert errors(result) == {"citizen_id": "too_long"}


def test_answers_are_nfc_normalised() -> None:
    decomposed = "Cafe\u0301"
    result = validate([NOTE], {"note": decomposed})
    assert result.values["note"] == "Caf\u00e9"


def test_control_and_invisible_characters_are_dropped() -> None:
    result = validate([NAME], {"first_name": "สม\x00ศ\u200bรี\x1b\u202e"})
    assert result.values["first_name"] == "สมศรี"


def test_text_answers_collapse_whitespace() -> None:
    assert validate([NOTE], {"note": "  ซอย\t 5 \n หมู่ 2 "}).values["note"] == "ซอย 5 หมู่ 2"


def test_textarea_keeps_line_breaks_and_drops_carriage_returns() -> None:
    result = validate([DETAILS], {"details": " บรรทัด 1\r\nบรรทัด 2\n\x07"})
    assert result.values["details"] == "บรรทัด 1\nบรรทัด 2"


def test_values_are_kept_for_every_field_when_some_have_errors() -> None:
    result = validate(
        [NAME, TITLE, CITIZEN_ID],
        {"first_name": "สมศรี", "title": "ดร.", "citizen_id": "1234567890122"},
    )
    assert not result.ok
    assert errors(result) == {"title": "invalid_choice", "citizen_id": "citizen_id_checksum"}
    assert result.values == {"first_name": "สมศรี", "title": "ดร.", "citizen_id": "1234567890122"}
    assert result.error_for("first_name") is None


def test_unlisted_answers_are_ignored() -> None:
    result = validate([NOTE], {"note": "x", "is_admin": "1"})
    assert result.values == {"note": "x"}


def test_field_definition_is_read_from_data() -> None:
    field = FormField.from_data(
        {
            "name": "title",
            "label": "คำนำหน้า",
            "kind": "select",
            "required": True,
            "options": ["นาย", "นาง"],
        }
    )
    assert field.kind == "select"
    assert field.required is True
    assert field.options == ("นาย", "นาง")
    assert field.limit == 200


def test_field_definition_defaults_to_optional_text() -> None:
    field = FormField.from_data({"name": "note", "label": "หมายเหตุ"})
    assert (field.kind, field.required, field.limit) == ("text", False, 200)


def test_unknown_field_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown field kind"):
        FormField.from_data({"name": "x", "label": "x", "kind": "file"})
