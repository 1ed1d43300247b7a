"""How many parts (segments) an SMS takes, which is what the gateway bills.

A text of GSM 7-bit characters only (plain Latin) goes 160 to a part, 153 each once it needs
more than one (the rest carries the joining header); ``^{}[]~|\\€`` take two. Anything else,
and every Thai character, makes the whole text UCS-2: 70 UTF-16 code units in one part, 67 each
when split. A character outside the Basic Multilingual Plane (an emoji) is two code units.
"""

from __future__ import annotations

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "\f^{}\\[~]|€"
"""Sent as an escape and the character: two septets each."""
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def sms_units(text: str) -> int:
    """Septets for a GSM 7-bit text, UTF-16 code units for any other."""
    if is_gsm7(text):
        return len(text) + sum(ch in GSM7_EXTENDED for ch in text)
    return len(text.encode("utf-16-le")) // 2


def _parts(units: int, single: int, part: int) -> int:
    return 1 if units <= single else -(-units // part)


def ucs2_parts(text: str) -> int:
    """Parts for a text sent as UCS-2 (every Thai SMS): 70 in one part, 67 each when split."""
    return _parts(len(text.encode("utf-16-le")) // 2, UCS2_SINGLE, UCS2_PART)


def sms_parts(text: str) -> int:
    """Parts the text takes, in the encoding a gateway picks for it (GSM 7-bit or UCS-2)."""
    if is_gsm7(text):
        return _parts(sms_units(text), GSM7_SINGLE, GSM7_PART)
    return ucs2_parts(text)
