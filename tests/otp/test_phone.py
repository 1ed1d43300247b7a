from __future__ import annotations

import pytest

from portal.kernel.phone import MAX_INPUT_LENGTH, PhoneError, parse_thai_mobile


@pytest.mark.parametrize(
    "raw",
    [
        "0800000001",
        "080-000-0001",
        "+66800000001",
        "66800000001",
        "+66 80 000 0001",
        "  0800000001  ",
    ],
)
def test_thai_mobile_forms_are_stored_in_e164(raw: str) -> None:
    assert parse_thai_mobile(raw).e164 == "+66800000001"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("021234567", "phone_not_mobile"),
        ("+14155550123", "phone_not_thai"),
        ("08000", "phone_invalid"),
        ("080000000", "phone_invalid"),
        ("08000000011", "phone_invalid"),
        ("08000000ab", "phone_invalid"),
        ("abcdefghij", "phone_invalid"),
        ("", "phone_required"),
        ("   ", "phone_required"),
        ("0" * (MAX_INPUT_LENGTH + 1), "phone_invalid"),
    ],
)
def test_other_input_is_refused_with_a_code_naming_the_problem(raw: str, code: str) -> None:
    with pytest.raises(PhoneError) as caught:
        parse_thai_mobile(raw)
    assert caught.value.code == code


def test_overlong_input_is_refused_even_when_its_digits_form_a_mobile_number() -> None:
    padded = "080" + " " * MAX_INPUT_LENGTH + "0000001"
    assert parse_thai_mobile(" ".join("0800000001")).e164 == "+66800000001"
    with pytest.raises(PhoneError) as caught:
        parse_thai_mobile(padded)
    assert caught.value.code == "phone_invalid"


def test_phone_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_thai_mobile("021234567")


def test_national_form_is_how_thai_people_write_their_number() -> None:
    assert parse_thai_mobile("+66800000012").national == "0800000012"


def test_masked_form_keeps_only_the_prefix_and_last_four_digits() -> None:
    assert parse_thai_mobile("080-000-0099").masked == "08x-xxx-0099"
