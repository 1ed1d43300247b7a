from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError

from portal.sms.texts import render_sms, ucs2_parts
from portal.tracking.tokens import new_tracking_token

BASE_URL = "https://eservice.example.go.th"


def test_otp_text_fits_one_thai_sms_part() -> None:
    text = render_sms("otp.txt", code="123456", minutes=5)
    assert len(text) <= 70
    assert ucs2_parts(text) == 1


def test_otp_text_carries_the_code_and_minutes_and_no_other_digits() -> None:
    text = render_sms("otp.txt", code="042917", minutes=5)
    assert re.findall(r"\d+", text) == ["042917", "5"]


def test_otp_text_is_one_line_without_stray_spaces() -> None:
    text = render_sms("otp.txt", code="123456", minutes=5)
    assert "\n" not in text
    assert text == text.strip()
    assert "  " not in text


def test_receipt_with_a_real_tracking_link_fits_two_parts() -> None:
    token = new_tracking_token()
    assert len(token) == 24
    url = f"{BASE_URL}/t/{token}"
    text = render_sms("receipt.txt", number="69-482913", tracking_url=url)
    assert "69-482913" in text
    assert url in text.split()
    assert ucs2_parts(text) <= 2


def test_missing_template_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        render_sms("otp.txt", code="123456")


@pytest.mark.parametrize(
    ("length", "parts"),
    [(0, 1), (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_parts_are_70_single_and_67_each_when_split(length: int, parts: int) -> None:
    assert ucs2_parts("ก" * length) == parts


def test_characters_outside_the_basic_plane_take_two_ucs2_units() -> None:
    assert ucs2_parts("ก" * 68 + "😀") == 1
    assert ucs2_parts("ก" * 69 + "😀") == 2


# Every template's length, with the longest values each can carry.

TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates" / "sms"
LONGEST_BASE_URL = "https://eservice.tambon-example.go.th"
"""37 characters: the longest office address the two-part texts leave room for."""
STATUSES = ["received", "in_progress", "completed", "rejected", "cancelled"]


def _worst_cases() -> dict[str, list[dict[str, Any]]]:
    url = f"{LONGEST_BASE_URL}/t/{new_tracking_token()}"
    number = "69-999999"
    return {
        "otp.txt": [{"code": "999999", "minutes": 5}],
        "receipt.txt": [{"number": number, "tracking_url": url}],
        "status.txt": [
            {"number": number, "status": status, "tracking_url": url} for status in STATUSES
        ],
        "phone_changed.txt": [{"number": number, "tracking_url": url}],
    }


def test_every_sms_template_has_a_length_check() -> None:
    on_disk = {path.name for path in TEMPLATES.glob("*.txt")}
    assert on_disk <= set(_worst_cases()), f"add a length case for {on_disk - set(_worst_cases())}"


@pytest.mark.parametrize(
    ("template", "context"),
    [
        (name, context)
        for name, contexts in _worst_cases().items()
        if (TEMPLATES / name).exists()
        for context in contexts
    ],
)
def test_every_template_fits_its_parts(template: str, context: dict[str, Any]) -> None:
    text = render_sms(template, **context)
    if template == "otp.txt":
        assert ucs2_parts(text) == 1  # one Thai part: 70 UCS-2 characters
        assert len(text.encode("utf-16-le")) // 2 <= 70
        assert "ห้ามบอกรหัส" in text  # says not to share the code
    else:
        assert ucs2_parts(text) <= 2


def test_status_labels_in_sms_are_thai_for_every_status() -> None:
    for status in STATUSES:
        text = render_sms("status.txt", number="69-1", status=status, tracking_url="u")
        assert status not in text
