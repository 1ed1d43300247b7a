"""Filing a request through the real routes, and reading a receipt PDF back."""

from __future__ import annotations

import io
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from pypdf import PdfReader

from portal.tables.citizen_request import CitizenRequest
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, submit_form, verify_phone

BASE_URL = "https://eservice.example.go.th"
"""``PORTAL_BASE_URL`` of ``tests.conftest.make_settings``."""


def file_request(
    client: TestClient[Litestar], run_db: Any, phone: str = "0800003001", prefix: str = ""
) -> Any:
    """File a general request from ``client`` (at the office of ``prefix``, ``/o/<slug>``;
    none: the default office) and return its row (number, token, dates)."""
    verify_phone(client, run_db, phone, "+66" + phone[1:], prefix=prefix)
    response = submit_form(client, GENERAL_REQUEST_ANSWERS, prefix=prefix)
    assert response.status_code == 303
    number = response.headers["location"].rsplit("/", 1)[1]
    return run_db(
        lambda: (
            CitizenRequest.objects()
            .where(CitizenRequest.number == number, CitizenRequest.phone == "+66" + phone[1:])
            .first()
        )
    )


def thai_letters(text: str) -> str:
    """Only the Thai block (U+0E00-U+0E7F) of ``text``.

    fpdf2 maps each shaped cluster's text to its first glyph and leaves the cluster's other
    glyphs (SARA AM splits into NIKHAHIT and SARA AA) out of the ToUnicode map; poppler
    drops such glyphs, pypdf prints their raw codes (control characters, punctuation). Thai is
    compared on its letters, which come back whole and in order; ASCII (numbers, dates, the
    link) is compared as it is.
    """
    return "".join(ch for ch in text if "\u0e00" <= ch <= "\u0e7f")


def pdf_reader(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in pdf_reader(content).pages)


def text_runs(content: bytes) -> list[tuple[float, str]]:
    """Each piece of text the PDF draws, in drawing order, with its baseline (points from the
    page's foot; a page further on counts a page height lower).

    fpdf2 draws every line of a ``multi_cell`` as its own text run; runs on one baseline are
    one line. Lines are read from positions, not from ``extract_text``'s newlines: the raw
    codes it prints for SARA AM's second glyph can themselves be a newline.
    """
    runs: list[tuple[float, str]] = []
    for number, page in enumerate(pdf_reader(content).pages):
        foot = -number * float(page.mediabox.height)

        def visit(text: str, cm: Any, tm: Any, font: Any, size: Any, foot: float = foot) -> None:
            if text.strip():
                runs.append((foot + float(tm[5]), text))

        page.extract_text(visitor_text=visit)
    return runs
