"""The receipt PDF's lines break between words: never inside a Thai word, an English word, a
number or a link (issue 14: "องค์การบ" / "ริหารส่วนตำบล" on an official document).

Lines are read back from the PDF itself and checked against PyThaiNLP's ``newmm`` with its own
default dictionary trie, independently of the portal's word list.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from portal.app import create_app
from portal.otp.policy import OtpPolicy
from portal.receipt import thai_words
from portal.receipt.fonts import find_fonts
from portal.receipt.pdf import ReceiptText, render_receipt_pdf
from tests.conftest import app_loop, make_settings
from tests.receipt.helpers import BASE_URL, file_request, text_runs

OFFICE = "องค์การบริหารส่วนตำบลหนองบัวทองพัฒนาเจริญอำเภอศรีประจันต์จังหวัดสุพรรณบุรี"
LABEL = "หน่วยงานที่รับผิดชอบองค์การบริหารส่วนตำบลหนองบัวทองพัฒนาเจริญ"
CODE = "ABC-2569/000123"
SERVICE = (
    "ขออนุญาตก่อสร้างอาคารพาณิชย์สูง 3 ชั้นขนาด4.5x12เมตรตามแบบแปลนเลขที่"
    f"{CODE}และขอใช้น้ำประปาส่วนภูมิภาคเพื่อกิจการร้านค้าปลีกขนาดกลางในเขตเทศบาลตำบล"
)
NOTE = (
    "เก็บใบรับคำร้องนี้ไว้เป็นหลักฐานการยื่นคำร้องและแจ้งเลขที่คำร้องทุกครั้งที่ติดต่อเจ้าหน้าที่"
    "ขององค์การบริหารส่วนตำบลหนองบัวทองพัฒนาเจริญในวันและเวลาราชการ"
)
TRACKING_URL = f"{BASE_URL}/t/{'a' * 24}"


def _comparable(text: str) -> str:
    """Thai letters, ASCII letters and digits: what comes back from the PDF exactly.

    The raw codes pypdf prints for SARA AM's second glyph are control characters or ASCII
    punctuation (``tests.receipt.helpers.thai_letters``); spaces at a break are not drawn.
    """
    return "".join(
        ch for ch in text if "\u0e00" <= ch <= "\u0e7f" or (ch.isascii() and ch.isalnum())
    )


def _lines_of(content: bytes, original: str) -> list[str]:
    """The lines the PDF draws ``original`` on, found by their text, in order."""
    target = _comparable(original)
    runs = text_runs(content)
    for start, (_, first) in enumerate(runs):
        if not _comparable(first) or not target.startswith(_comparable(first)):
            continue
        drawn = ""
        for end in range(start, len(runs)):
            drawn += _comparable(runs[end][1])
            if drawn == target:
                return list(_by_baseline(runs[start : end + 1]))
            if not target.startswith(drawn):
                break
    raise AssertionError(f"not drawn whole in the PDF: {original!r}")


def _by_baseline(runs: list[tuple[float, str]]) -> Iterator[str]:
    line, baseline = "", runs[0][0]
    for y, text in runs:
        if abs(y - baseline) > 1:
            yield line
            line, baseline = "", y
        line += text
    yield line


def _newmm_boundaries(text: str) -> set[int]:
    """Offsets in ``text`` where a ``newmm`` token ends, with PyThaiNLP's default dictionary."""
    thai_words.words("ไทย")  # PyThaiNLP set up read-only and offline, as the portal does
    from pythainlp.tokenize import word_tokenize

    return set(accumulate(len(token) for token in word_tokenize(text, engine="newmm")))


def _assert_breaks_between_words(original: str, lines: list[str]) -> None:
    kept = [index for index, ch in enumerate(original) if _comparable(ch)]
    assert "".join(_comparable(line) for line in lines) == _comparable(original)
    boundaries = _newmm_boundaries(original)
    offset = 0
    for line, following in pairwise(lines):
        offset += len(_comparable(line))
        last, next_ = kept[offset - 1], kept[offset]
        assert any(last < boundary <= next_ for boundary in boundaries), (
            f"line ends inside a word: {line!r} / {following!r}"
        )


def _receipt(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "language": "th",
        "office": OFFICE,
        "title": "ใบรับคำร้อง",
        "rows": [("เลขที่คำร้อง", "69-000001"), (LABEL, "เทศบาล"), ("บริการ", SERVICE)],
        "qr_caption": "สแกน QR เพื่อติดตามสถานะคำร้อง",
        "link_label": "หรือเปิดลิงก์ติดตามสถานะ",
        "note": NOTE,
        "issued": "ข้อมูล ณ 3 ธันวาคม 2569",
    }
    fields.update(overrides)
    return render_receipt_pdf(ReceiptText(**fields), TRACKING_URL, find_fonts(None))


@pytest.mark.parametrize(
    ("field", "text", "at_least"),
    [("office", OFFICE, 2), ("row label", LABEL, 2), ("service", SERVICE, 3), ("note", NOTE, 2)],
)
def test_long_thai_text_wraps_only_between_words(field: str, text: str, at_least: int) -> None:
    lines = _lines_of(_receipt(), text)
    assert len(lines) >= at_least, f"{field} should wrap at this page width: {lines}"
    _assert_breaks_between_words(text, lines)


def test_english_numbers_and_links_stay_whole_on_a_line() -> None:
    content = _receipt()
    service = _lines_of(content, SERVICE)
    assert sum(CODE in line for line in service) == 1, service
    assert [line.strip() for line in _lines_of(content, TRACKING_URL)] == [TRACKING_URL]


def test_the_pdf_text_has_no_zero_width_spaces() -> None:
    """Break opportunities steer the layout only: the PDF copies and searches as written."""
    drawn = "".join(text for _, text in text_runs(_receipt()))
    assert thai_words.ZWSP not in drawn
    assert "องค์การบริหารส่วนตำ" in drawn  # one word, in one piece


def test_a_word_longer_than_the_line_is_still_cut_rather_than_lost() -> None:
    long_link = "https://eservice.example.go.th/plans/" + "0123456789" * 14
    lines = _lines_of(_receipt(note=long_link), long_link)
    assert len(lines) >= 2
    assert "".join(line.strip() for line in lines) == long_link


def test_english_receipt_wraps_at_spaces() -> None:
    note = (
        "Keep this receipt as proof that you filed your request, and quote its number "
        "every time you contact the office about it, by telephone or in person."
    )
    lines = _lines_of(_receipt(language="en", note=note), note)
    assert len(lines) == 2
    assert " ".join(line.strip() for line in lines) == note


def test_office_name_from_the_settings_wraps_between_words_in_the_download(
    tmp_path: Path, database: str, otp_policy: OtpPolicy
) -> None:
    settings = make_settings(tmp_path, database, PORTAL_OFFICE_NAME=OFFICE)
    with TestClient(app=create_app(settings, otp_policy=otp_policy)) as client:
        run_db = app_loop(client)

        filed = file_request(client, run_db, "0800003201")
        response = client.get(f"/t/{filed.tracking_token}/receipt.pdf")
    assert response.status_code == 200
    lines = _lines_of(response.content, OFFICE)
    assert len(lines) >= 2
    _assert_breaks_between_words(OFFICE, lines)
