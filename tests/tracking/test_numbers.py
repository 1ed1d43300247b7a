from __future__ import annotations

import pytest

from portal.kernel.request_numbers import parse_request_number


@pytest.mark.parametrize(
    "typed",
    [
        "69-482913",
        "69482913",
        " 69 482913 ",
        "69 482 913",
        "69/482913",
        "\t69-482913\t",
        "๖๙-๔๘๒๙๑๓",
        "๖๙๔๘๒๙๑๓",
        "69-๔๘๒๙๑๓",
    ],
)
def test_number_as_people_type_it_back_is_read_as_the_canonical_form(typed: str) -> None:
    assert parse_request_number(typed) == "69-482913"


def test_leading_zeros_are_kept() -> None:
    assert parse_request_number("70000001") == "70-000001"
    assert parse_request_number("00-000000") == "00-000000"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "-",
        "69-48291",
        "6948291",
        "69-4829130",
        "694829130",
        "1",
        "69-482913-1",
    ],
)
def test_wrong_number_of_digits_is_not_a_request_number(typed: str) -> None:
    assert parse_request_number(typed) is None


@pytest.mark.parametrize(
    "typed",
    [
        "69-48291a",
        "ab-cdefgh",
        "69-482913x",
        "x69-482913",
        "No. 69-482913",
        "เลขที่ 69-482913",
        "69_482913",
        "69.482913",
        "69-482913\n",
        "69-482913\x00",
        "６９ー４８２９１３",
    ],
)
def test_letters_and_other_characters_are_not_a_request_number(typed: str) -> None:
    assert parse_request_number(typed) is None


@pytest.mark.parametrize(
    "typed",
    [
        "69-482913' OR '1'='1",
        "69-482913'; DROP TABLE citizen_request; --",
        "69-482913 OR 1=1",
        '<script>alert("69-482913")</script>',
        "69-482913<img src=x onerror=alert(1)>",
        "{{ 6*9 }}-482913",
        "%36%39-482913",
    ],
)
def test_injection_attempts_are_not_a_request_number(typed: str) -> None:
    assert parse_request_number(typed) is None


@pytest.mark.parametrize(
    "typed",
    [
        "69-482913" + " " * 100,
        " " * 100 + "69-482913",
        "6" * 10_000,
        "69-482913" * 1000,
        "-" * 100_000,
    ],
)
def test_overlong_input_is_not_a_request_number(typed: str) -> None:
    assert parse_request_number(typed) is None
