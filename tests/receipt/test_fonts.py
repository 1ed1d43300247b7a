"""The receipt font: Debian's Thai fonts by default, an override folder, a clear failure."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from portal.receipt.fonts import DEFAULT_FONT_DIR, ReceiptFontMissing, find_fonts
from portal.settings import load_settings


def test_default_is_garuda_from_fonts_thai_tlwg() -> None:
    fonts = find_fonts(None)
    assert fonts.regular == DEFAULT_FONT_DIR / "Garuda.ttf"
    assert fonts.bold == DEFAULT_FONT_DIR / "Garuda-Bold.ttf"
    assert fonts.family == "Garuda"


def test_override_folder_with_loma_only_uses_loma(tmp_path: Path) -> None:
    for name in ("Loma.ttf", "Loma-Bold.ttf"):
        shutil.copy(DEFAULT_FONT_DIR / name, tmp_path / name)
    fonts = find_fonts(tmp_path)
    assert (fonts.regular, fonts.bold) == (tmp_path / "Loma.ttf", tmp_path / "Loma-Bold.ttf")


def test_a_regular_face_without_its_bold_is_not_enough(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_FONT_DIR / "Garuda.ttf", tmp_path / "Garuda.ttf")
    with pytest.raises(ReceiptFontMissing) as missing:
        find_fonts(tmp_path)
    message = str(missing.value)
    assert str(tmp_path) in message
    assert "fonts-thai-tlwg" in message
    assert "PORTAL_RECEIPT_FONT_DIR" in message


def test_setting_reads_the_override_folder(tmp_path: Path) -> None:
    base = {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_SECRET_KEY": "x" * 40}
    assert load_settings(base).receipt_font_dir is None
    chosen = load_settings({**base, "PORTAL_RECEIPT_FONT_DIR": f" {tmp_path} "})
    assert chosen.receipt_font_dir == tmp_path.resolve()
