"""QR codes of the tracking link: inline SVG for the page (the CSP allows no inline style,
and segno's SVG uses attributes only), PNG for the PDF."""

from __future__ import annotations

import io

import segno

ERROR_LEVEL = "m"
"""15% of the code may be smudged or folded and it still scans: receipts get handled."""


def qr_svg(url: str) -> str:
    svg: str = segno.make(url, error=ERROR_LEVEL).svg_inline(
        scale=4, border=4, dark="#000", light="#fff", omitsize=True
    )
    return svg


def qr_png(url: str) -> bytes:
    """Ten pixels a module: sharp when the PDF is printed, and small (1-bit PNG)."""
    buffer = io.BytesIO()
    segno.make(url, error=ERROR_LEVEL).save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()
