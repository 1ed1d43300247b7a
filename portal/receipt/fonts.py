"""The receipt PDF's Thai font, found in one place.

PDF viewers on phones and office PCs often have no Thai font, so the PDF embeds one. Debian's
``fonts-thai-tlwg`` (installed by ``scripts/setup``) ships Garuda and Loma with bold faces;
``PORTAL_RECEIPT_FONT_DIR`` points to another folder holding the same files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from litestar import Litestar

from portal.settings import settings_of

logger = logging.getLogger("portal")

DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/tlwg")
FONT_FILES = (("Garuda.ttf", "Garuda-Bold.ttf"), ("Loma.ttf", "Loma-Bold.ttf"))
"""Regular and bold faces, in order of preference: Garuda reads well at small sizes."""


class ReceiptFontMissing(Exception):
    """No usable Thai font: the PDF cannot be made (the receipt page still can)."""

    def __init__(self, font_dir: Path) -> None:
        wanted = " or ".join(f"{regular} + {bold}" for regular, bold in FONT_FILES)
        super().__init__(
            f"receipt PDF: no Thai font in {font_dir} (needs {wanted}); install Debian's"
            " fonts-thai-tlwg (scripts/setup does) or set PORTAL_RECEIPT_FONT_DIR to a folder"
            " holding these files"
        )
        self.font_dir = font_dir


@dataclass(frozen=True)
class ReceiptFonts:
    regular: Path
    bold: Path

    @property
    def family(self) -> str:
        return self.regular.stem


def find_fonts(font_dir: Path | None) -> ReceiptFonts:
    """The first regular and bold pair present in ``font_dir`` (Debian's folder if None)."""
    folder = font_dir or DEFAULT_FONT_DIR
    for regular, bold in FONT_FILES:
        if (folder / regular).is_file() and (folder / bold).is_file():
            return ReceiptFonts(regular=folder / regular, bold=folder / bold)
    raise ReceiptFontMissing(folder)


def warn_if_font_missing(app: Litestar) -> None:
    """At start-up, so the operator reads it in the service log before a citizen meets it."""
    try:
        find_fonts(settings_of(app).receipt_font_dir)
    except ReceiptFontMissing as missing:
        logger.warning("%s", missing)
