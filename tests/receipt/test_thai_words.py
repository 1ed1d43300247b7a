"""Thai word boundaries for the receipt PDF: PyThaiNLP's ``newmm``, read-only and offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.receipt.thai_words import ZWSP, breakable, words

TEXTS = [
    "องค์การบริหารส่วนตำบลหนองบัวทองพัฒนาเจริญ",
    "ขออนุญาตก่อสร้างอาคารพาณิชย์สูง 3 ชั้นขนาด4.5x12เมตร ตามแบบ https://example.go.th/a?b=1",
    "เก็บใบรับคำร้องนี้ไว้เป็นหลักฐานการยื่นคำร้อง และแจ้งเลขที่คำร้องทุกครั้งที่ติดต่อเจ้าหน้าที่",
    "กรุงเทพฯ มีหน่วยงานต่างๆ มากมาย ราคา ๑๒๓ บาท",
]


@pytest.mark.parametrize("text", TEXTS)
def test_words_are_newmm_tokens_with_pythainlp_default_dictionary(text: str) -> None:
    words("ไทย")  # loads PyThaiNLP read-only first
    from pythainlp.tokenize import word_tokenize

    assert words(text) == word_tokenize(text, engine="newmm")


def test_breakable_marks_boundaries_between_thai_words_only() -> None:
    marked = breakable("องค์การบริหารส่วนตำบลหนองบัวทองพัฒนาเจริญ")
    assert marked.split(ZWSP) == ["องค์การบริหารส่วนตำบล", "หนอง", "บัว", "ทอง", "พัฒนา", "เจริญ"]


def test_breakable_leaves_english_numbers_links_and_spaces_alone() -> None:
    text = TEXTS[1]
    marked = breakable(text)
    assert marked.replace(ZWSP, "") == text
    assert marked.split(ZWSP) == [
        "ขออนุญาต",
        "ก่อสร้าง",
        "อาคาร",
        "พาณิชย์",
        "สูง 3 ชั้น",
        "ขนาด4.5x12เมตร ตาม",
        "แบบ https://example.go.th/a?b=1",
    ]


def test_no_line_starts_with_maiyamok_or_paiyannoi() -> None:
    marked = breakable("หน่วยงานต่างๆกรุงเทพฯมหานคร")
    assert marked.replace(ZWSP, "") == "หน่วยงานต่างๆกรุงเทพฯมหานคร"
    assert all(not piece.startswith(("ๆ", "ฯ")) for piece in marked.split(ZWSP))
    assert "ต่าง" + ZWSP + "ๆ" not in marked


def test_text_without_thai_is_unchanged() -> None:
    for text in ("", "69-000001", "Example Subdistrict Municipality", "https://a.example/b"):
        assert breakable(text) == text
    assert words("") == []


def _run_isolated(code: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter with no network and ``home`` as $HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHAINLP_")}
    env["HOME"] = str(home)
    guard = (
        "import socket\n"
        "def refuse(*args, **kwargs):\n"
        "    raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", guard + code],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
        check=False,
    )


def test_works_with_an_unwritable_home_and_no_network(tmp_path: Path) -> None:
    # A home below a regular file: nothing can be created there, not even by root.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = _run_isolated(
        "from portal.receipt.thai_words import breakable\n"
        "print(breakable('องค์การบริหารส่วนตำบลหนองบัว').split('\\u200b'))\n",
        blocker / "home",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['องค์การบริหารส่วนตำบล', 'หนอง', 'บัว']"


def test_leaves_home_untouched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = _run_isolated(
        "from portal.receipt.thai_words import words\nprint(len(words('ตำบลหนองบัว')))\n", home
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"
    assert list(home.iterdir()) == []


def test_english_text_does_not_load_pythainlp(tmp_path: Path) -> None:
    result = _run_isolated(
        "import sys\n"
        "from portal.receipt.thai_words import breakable\n"
        "breakable('Example Subdistrict Municipality, request 69-000001')\n"
        "print('pythainlp' in sys.modules)\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
