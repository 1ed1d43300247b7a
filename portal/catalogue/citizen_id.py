"""The Thai 13-digit citizen ID and its check digit."""

import unicodedata


def normalise_citizen_id(raw: str) -> str:
    """1-2345-67890-12-1, "1 2345 ...", ๑๒๓... and 1234567890121 are the same ID.

    Thai digits (and any other decimal digits) become ASCII, as OTP codes and request numbers
    take them: a Thai keyboard types ๑๒๓ and the ID on the card is the same number.
    """
    kept = (ch for ch in raw.strip() if ch not in "- ")
    return "".join(str(unicodedata.digit(ch)) if ch.isdecimal() else ch for ch in kept)


def check_digit(first_twelve: str) -> int:
    """Weights 13 down to 2 over the first twelve digits; (11 - sum mod 11) mod 10."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first_twelve, range(13, 1, -1), strict=True)
    )
    return (11 - total % 11) % 10


def is_valid_citizen_id(value: str) -> bool:
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        return False
    return check_digit(value[:12]) == int(value[12])
