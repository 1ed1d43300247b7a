"""The receipt as an A4 PDF (fpdf2), Thai shaped by HarfBuzz so vowels and tone marks stack.

The words come from the template ``receipt/pdf_text.json`` (rendered in the page's language,
next to the page's own words for translators); this module only lays them out. Every text that
may wrap goes through ``_text``, so lines break between Thai words, never inside one.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos

from portal.receipt.fonts import ReceiptFonts
from portal.receipt.qr import qr_png
from portal.receipt.thai_words import ZWSP, breakable

MARGIN_MM = 20
LABEL_WIDTH_MM = 58
QR_SIZE_MM = 55
"""About 2 mm a module for a tracking link: scans from arm's length, even off a fax copy."""
LINE_MM = 8


@dataclass(frozen=True)
class ReceiptText:
    language: str
    office: str
    title: str
    rows: list[tuple[str, str]]
    qr_caption: str
    link_label: str
    note: str
    issued: str

    @classmethod
    def from_json(cls, raw: str) -> ReceiptText:
        data = json.loads(raw)
        return cls(
            language=str(data["language"]),
            office=str(data["office"]),
            title=str(data["title"]),
            rows=[(str(label), str(value)) for label, value in data["rows"]],
            qr_caption=str(data["qr_caption"]),
            link_label=str(data["link_label"]),
            note=str(data["note"]),
            issued=str(data["issued"]),
        )


def render_receipt_pdf(text: ReceiptText, tracking_url: str, fonts: ReceiptFonts) -> bytes:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_MM)
    pdf.set_title(f"{text.title} {text.rows[0][1] if text.rows else ''}".strip())
    pdf.set_lang(text.language)
    pdf.set_creator("OSS-LOCAL e-Service")
    family = fonts.family
    pdf.add_font(family, "", str(fonts.regular))
    pdf.add_font(family, "B", str(fonts.bold))
    pdf.set_text_shaping(True)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(family, "B", 16)
    _text(pdf, width, LINE_MM, text.office, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "B", 24)
    _text(pdf, width, 13, text.title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    _rule(pdf)

    for label, value in text.rows:
        _row(pdf, family, label, value)
    pdf.ln(6)

    top = pdf.get_y()
    if top + QR_SIZE_MM + 40 > pdf.h - MARGIN_MM:
        pdf.add_page()
        top = pdf.get_y()
    pdf.image(
        io.BytesIO(qr_png(tracking_url)),
        x=(pdf.w - QR_SIZE_MM) / 2,
        y=top,
        w=QR_SIZE_MM,
        h=QR_SIZE_MM,
        alt_text=text.qr_caption,
    )
    pdf.set_y(top + QR_SIZE_MM + 2)
    pdf.set_font(family, "", 13)
    _text(pdf, width, 7, text.qr_caption, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 11)
    _text(pdf, width, 6, text.link_label, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    _text(pdf, width, 6, tracking_url, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    _rule(pdf)
    pdf.set_font(family, "", 12)
    _text(pdf, width, 7, text.note, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 10)
    _text(pdf, width, 6, text.issued, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _text(
    pdf: FPDF,
    width: float,
    height: float,
    text: str,
    align: Align,
    new_x: XPos,
    new_y: YPos = YPos.NEXT,
) -> None:
    """``multi_cell`` whose lines break only between words (spaces, or Thai word boundaries).

    fpdf2 wraps at spaces and, on a line without one, at any character. A dry run with a
    zero-width space between Thai words lets fpdf2 choose the lines with its own measure; the
    lines are then printed without those spaces, so the PDF's text copies and searches as
    written. A single word wider than the line (a long link) is still cut, as the last resort.
    """
    lines: list[str] = pdf.multi_cell(
        width, height, breakable(text), align=align, dry_run=True, output=MethodReturnValue.LINES
    )  # type: ignore[assignment]  # the result's type follows ``output``; fpdf2 types a union
    wrapped = "\n".join(line.replace(ZWSP, "") for line in lines)
    pdf.multi_cell(width, height, wrapped, align=align, new_x=new_x, new_y=new_y)


def _rule(pdf: FPDF) -> None:
    y = pdf.get_y()
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(3)


def _row(pdf: FPDF, family: str, label: str, value: str) -> None:
    """Label left, value right; either may wrap (a long service name), the taller one wins."""
    top = pdf.get_y()
    if top + 2 * LINE_MM > pdf.h - MARGIN_MM:
        pdf.add_page()
        top = pdf.get_y()
    pdf.set_font(family, "", 13)
    _text(pdf, LABEL_WIDTH_MM, LINE_MM, label, align=Align.L, new_x=XPos.LMARGIN)
    label_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + LABEL_WIDTH_MM, top)
    pdf.set_font(family, "B", 14)
    _text(pdf, pdf.epw - LABEL_WIDTH_MM, LINE_MM, value, align=Align.L, new_x=XPos.LMARGIN)
    pdf.set_y(max(label_bottom, pdf.get_y()) + 1.5)
