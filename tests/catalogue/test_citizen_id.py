from __future__ import annotations

import pytest

from portal.catalogue.citizen_id import check_digit, is_valid_citizen_id

# Made-up numbers with a correct check digit; none belongs to a real person.
VALID = ["1234567890121", "1111111111119", "0000000000001", "0000000000060"]


@pytest.mark.parametrize("value", VALID)
def test_numbers_with_the_right_check_digit_are_valid(value: str) -> None:
    assert is_valid_citizen_id(value)


@pytest.mark.parametrize(
    ("first_twelve", "digit"),
    [
        ("123456789012", 1),
        ("111111111111", 9),
        ("000000000000", 1),  # sum 0: (11 - 0) mod 10
        ("000000000006", 0),  # sum 12, 12 mod 11 = 1: (11 - 1) mod 10
    ],
)
def test_check_digit_follows_the_mod_11_rule(first_twelve: str, digit: int) -> None:
    assert check_digit(first_twelve) == digit


@pytest.mark.parametrize("last", [d for d in "0123456789" if d != "1"])
def test_any_other_check_digit_is_invalid(last: str) -> None:
    assert not is_valid_citizen_id("123456789012" + last)


def test_swapped_digits_are_caught() -> None:
    assert not is_valid_citizen_id("2134567890121")


@pytest.mark.parametrize(
    "value",
    ["", "123456789012", "12345678901210", "1-2345-67890-12-1", "12345678901a1", "๑๒๓๔๕๖๗๘๙๐๑๒๑"],
)
def test_anything_but_thirteen_ascii_digits_is_invalid(value: str) -> None:
    assert not is_valid_citizen_id(value)
