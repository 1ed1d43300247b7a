from __future__ import annotations

import re

import pytest
from jinja2 import UndefinedError

from portal.kernel.tracking_links import new_tracking_token, tracking_link
from portal.sms.parts import sms_parts
from portal.sms.texts import render_sms, webotp_host, with_webotp_line
from portal.tables.citizen_request import RequestStatus

LINK_BASE = "https://oss.go.th"


def test_otp_text_carries_the_code_and_minutes_and_no_other_digits() -> None:
    text = render_sms("otp.txt", code="042917", minutes=5)
    assert re.findall(r"\d+", text) == ["042917", "5"]
    assert "ห้ามบอก" in text  # says not to share the code


def test_otp_text_is_one_line_without_stray_spaces() -> None:
    text = render_sms("otp.txt", code="123456", minutes=5)
    assert "\n" not in text
    assert text == text.strip()
    assert "  " not in text


def test_receipt_carries_the_number_and_the_link_as_the_manual_promises() -> None:
    url = tracking_link(LINK_BASE, new_tracking_token())
    text = render_sms("receipt.txt", number="69-482913", tracking_url=url)
    assert text == f"รับคำร้อง 69-482913 แล้ว {url}"
    assert text.split()[-1] == url  # last: a phone's link detection stops at nothing after it


def test_phone_changed_carries_the_number_and_the_link() -> None:
    url = tracking_link(LINK_BASE, new_tracking_token())
    text = render_sms("phone_changed.txt", number="69-482913", tracking_url=url)
    assert "69-482913" in text.split()
    assert text.split()[-1] == url


@pytest.mark.parametrize("status", list(RequestStatus))
def test_status_text_has_a_short_thai_word_for_every_status(status: RequestStatus) -> None:
    text = render_sms("status.txt", number="69-1", status=status.value, tracking_url="u")
    number, *words, link = text.split()
    assert (number, link) == ("69-1", "u")
    assert words
    assert status.value not in text
    assert all(re.search("[\u0e00-\u0e7f]", word) for word in words)


def test_status_words_differ_between_statuses() -> None:
    texts = {
        render_sms("status.txt", number="69-1", status=status.value, tracking_url="u")
        for status in RequestStatus
    }
    assert len(texts) == len(RequestStatus)


def test_missing_template_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        render_sms("otp.txt", code="123456")


# The WebOTP line (origin-bound one-time code)


def test_webotp_line_is_the_last_line_with_the_pages_host_and_the_code() -> None:
    text = with_webotp_line(
        render_sms("otp.txt", code="042917", minutes=5), host="oss.go.th", code="042917"
    )
    *_, last = text.split("\n")
    assert last == "@oss.go.th #042917"
    assert sms_parts(text) == 1


def test_webotp_line_is_left_out_when_it_would_make_two_parts() -> None:
    body = render_sms("otp.txt", code="042917", minutes=5)
    host = "e-service." + "a" * 40 + ".go.th"
    assert with_webotp_line(body, host=host, code="042917") == body


def test_no_host_no_webotp_line() -> None:
    body = render_sms("otp.txt", code="042917", minutes=5)
    assert with_webotp_line(body, host="", code="042917") == body


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://eservice.example.go.th", "eservice.example.go.th"),
        ("https://EService.Example.go.th:8443", "eservice.example.go.th"),  # no port in the line
        ("http://127.0.0.1:8000", "127.0.0.1"),
        ("http://[::1]:8000", ""),  # Chrome reads no brackets
        ("", ""),
    ],
)
def test_webotp_host_is_the_pages_host_name(base_url: str, host: str) -> None:
    assert webotp_host(base_url) == host
