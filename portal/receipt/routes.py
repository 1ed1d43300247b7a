"""``/t/<token>/receipt`` (the page) and ``/t/<token>/receipt.pdf`` (the download).

Both answer exactly like ``/t/<token>`` to a bad or unknown token: the same 404.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.receipt.fonts import ReceiptFontMissing, find_fonts
from portal.receipt.pdf import ReceiptText, render_receipt_pdf
from portal.receipt.qr import qr_svg
from portal.receipt.service import Receipt, receipt_for_token
from portal.settings import Settings
from portal.web.rendering import render

logger = logging.getLogger("portal")


async def _receipt(token: str, office: OfficeRef) -> Receipt:
    """The office's receipt; another office's token is the same 404 as an unknown one."""
    receipt = await receipt_for_token(token, office=office)
    if receipt is None:
        raise NotFoundException()
    return receipt


def _render_words(request: Request[Any, Any, Any], receipt: Receipt) -> str:
    """The PDF's words from the app's own Jinja (catalogues, the request's office's name, date
    filters)."""
    engine = request.app.template_engine
    if engine is None:  # pragma: no cover - create_app always configures Jinja
        raise RuntimeError("the receipt PDF needs the app's template engine")
    template = engine.get_template("receipt/pdf_text.json")
    return str(template.render(request=request, receipt=receipt, issued_at=utcnow()))


@get("/t/{token:str}/receipt", name="receipt_page")
async def receipt_page(
    request: Request[Any, Any, Any], token: FromPath[str], office: NamedDependency[OfficeRef]
) -> Template:
    receipt = await _receipt(token, office)
    return render(
        request,
        page="receipt/page.html",
        partial="receipt/_receipt.html",
        context={
            "receipt": receipt,
            "token": token,
            "qr_svg": qr_svg(receipt.tracking_url),
            "issued_at": utcnow(),
        },
    )


@get("/t/{token:str}/receipt.pdf", name="receipt_pdf")
async def receipt_pdf(
    request: Request[Any, Any, Any],
    token: FromPath[str],
    settings: NamedDependency[Settings],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    receipt = await _receipt(token, office)
    try:
        fonts = find_fonts(settings.receipt_font_dir)
    except ReceiptFontMissing as missing:
        # An operator's fix, not a bug: one clear line in the log, a Thai page for the citizen.
        logger.error("%s", missing)
        return Template(
            template_name="receipt/pdf_unavailable.html",
            context={"token": token},
            status_code=503,
        )
    words = _render_words(request, receipt)
    # Shaping and font subsetting take a few tens of milliseconds of CPU: off the event loop.
    pdf = await anyio.to_thread.run_sync(
        render_receipt_pdf, ReceiptText.from_json(words), receipt.tracking_url, fonts
    )
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="receipt-{receipt.number}.pdf"'},
    )
