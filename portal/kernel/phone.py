"""Thai mobile numbers, parsed with ``phonenumbers`` and kept in E.164."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType


class PhoneError(ValueError):
    """``code`` names the problem; the Thai wording lives in the templates."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ThaiMobile:
    e164: str

    @property
    def national(self) -> str:
        """0812345678, the way Thai people write their own number."""
        return "0" + self.e164.removeprefix("+66")

    @property
    def masked(self) -> str:
        """08x-xxx-5678: enough for the owner to recognise, too little for anyone else."""
        national = self.national
        return f"{national[:2]}x-xxx-{national[-4:]}"


MAX_INPUT_LENGTH = 32


def parse_thai_mobile(raw: str) -> ThaiMobile:
    """Accept 0812345678, 081-234-5678, +66812345678 and 66 81 234 5678; refuse the rest."""
    text = (raw or "").strip()
    if not text:
        raise PhoneError("phone_required")
    if len(text) > MAX_INPUT_LENGTH or any(ch.isalpha() for ch in text):
        raise PhoneError("phone_invalid")
    if text.startswith("66") and not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, "TH")
    except phonenumbers.NumberParseException as error:
        raise PhoneError("phone_invalid") from error
    if number.country_code != 66:
        raise PhoneError("phone_not_thai")
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("phone_invalid")
    if phonenumbers.number_type(number) != PhoneNumberType.MOBILE:
        raise PhoneError("phone_not_mobile")
    return ThaiMobile(e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
