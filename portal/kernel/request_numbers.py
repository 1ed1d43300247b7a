"""Request numbers as people type them back: 69-482913, 69482913, ๖๙-๔๘๒๙๑๓."""

from __future__ import annotations

import unicodedata


def parse_request_number(raw: str) -> str | None:
    """The canonical ``YY-NNNNNN`` form, or None when it cannot be one of ours."""
    digits = (
        "".join(str(unicodedata.digit(ch)) for ch in raw if ch.isdecimal())
        if len(raw) <= 32
        else ""
    )
    leftovers = [ch for ch in raw if not ch.isdecimal() and ch not in " -/\t"]
    if len(digits) != 8 or leftovers:
        return None
    return f"{digits[:2]}-{digits[2:]}"
