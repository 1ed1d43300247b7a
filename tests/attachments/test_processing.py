"""Type by content, re-encoding without metadata, previews, and the files refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from portal.attachments.processing import (
    FULL_EDGE,
    PREVIEW_EDGE,
    UploadRejected,
    process_upload,
)
from tests.attachments.helpers import (
    gif,
    heic_header,
    jpeg_with_gps,
    pdf,
    pdf_with_object_stream,
    png,
    png_bomb,
    webp,
)

LIMIT = 10 * 1024 * 1024


def _rejected(data: bytes, **kwargs: int) -> str:
    with pytest.raises(UploadRejected) as caught:
        process_upload(data, max_bytes=kwargs.get("max_bytes", LIMIT))
    return caught.value.code


def test_the_helper_pdf_is_a_real_pdf() -> None:
    assert len(PdfReader(io.BytesIO(pdf())).pages) == 1


@pytest.mark.parametrize("make", [jpeg_with_gps, png, webp], ids=["jpeg", "png", "webp"])
def test_photos_are_recognised_by_decoding_and_kept_as_jpeg(make: object) -> None:
    processed = process_upload(make(), max_bytes=LIMIT)  # type: ignore[operator]
    assert processed.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(processed.data)).format == "JPEG"
    assert processed.preview is not None


def test_a_pdf_is_recognised_by_its_structure_and_kept_as_sent() -> None:
    processed = process_upload(pdf(), max_bytes=LIMIT)
    assert processed.content_type == "application/pdf"
    assert processed.data == pdf()
    assert processed.preview is None


def test_a_pdf_with_an_object_stream_is_read_through_it() -> None:
    harmless = pdf_with_object_stream(b"<< /Dests << >> >>")
    assert len(PdfReader(io.BytesIO(harmless)).pages) == 1
    assert process_upload(harmless, max_bytes=LIMIT).content_type == "application/pdf"


JAVASCRIPT_NAMES = b"/JavaScript << /Names [(x) << /S /JavaScript /JS (app.alert(1)) >>] >>"


@pytest.mark.parametrize(
    "data",
    [
        pdf(b"/Names << /J#61vaScript << /Names [(x) << /S /J#61vaScript /J#53 (1) >>] >> >> "),
        pdf(b"/OpenAction << /S /L#61unch /F (cmd.exe) >> "),
        pdf(b"/OpenAction << /S /Launch /F (cmd.exe) >> "),
        pdf(
            b"/Names << /JavaScript << /Names [(x) << /S /JavaScript /JS\n(app.alert(1)) >>] >> >> "
        ),
        pdf(b"/OpenAction [3 0 R /Fit] "),
        pdf(b"/AA << /WC << /S /Named /N /Print >> >> "),
        pdf(b"/Outlines << /First << /A << /S /SubmitForm /F (http://x.example/) >> >> >> "),
        pdf(b"/Outlines << /First << /A << /S /GoToR /F (other.pdf) >> >> >> "),
        pdf(b"/AcroForm << /Fields [] /XFA 3 0 R >> "),
        pdf(b"/Extra << /RichMedia << >> >> "),
        pdf(b"/Names << /EmbeddedFiles << /Names [] >> >> "),
        pdf_with_object_stream(b"<< " + JAVASCRIPT_NAMES + b" >>"),
    ],
    ids=[
        "name escapes",
        "launch escaped",
        "launch",
        "js before newline",
        "open action",
        "additional actions",
        "submit form",
        "remote goto",
        "xfa",
        "rich media",
        "embedded files",
        "compressed object stream",
    ],
)
def test_pdf_active_content_is_found_however_it_is_written(data: bytes) -> None:
    assert len(PdfReader(io.BytesIO(data)).pages) == 1  # each sample opens as a PDF
    assert _rejected(data) == "pdf_active"


def test_a_pdf_with_a_plain_web_link_is_accepted() -> None:
    linked = pdf(
        b"/Outlines << /First << /A << /S /URI /URI (https://www.example.go.th/) >> >> >> "
    )
    assert process_upload(linked, max_bytes=LIMIT).content_type == "application/pdf"


def test_the_compressed_sample_hides_its_javascript_from_a_byte_search() -> None:
    assert b"JavaScript" not in pdf_with_object_stream(b"<< " + JAVASCRIPT_NAMES + b" >>")


def test_a_pdf_too_big_to_walk_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("portal.attachments.pdf_check.PDF_MAX_OBJECTS", 5)
    assert _rejected(pdf()) == "corrupt"


def test_exif_with_gps_is_stripped_from_the_stored_photo_and_preview() -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the helper has GPS
    processed = process_upload(original, max_bytes=LIMIT)
    for data in (processed.data, processed.preview):
        assert data is not None
        stored = Image.open(io.BytesIO(data))
        assert len(stored.getexif()) == 0
        assert "exif" not in stored.info
        assert b"Exif" not in data and b"TestPhone" not in data


def test_orientation_is_applied_before_the_tag_goes() -> None:
    # Orientation 6: the camera held sideways; the stored photo is upright (portrait).
    processed = process_upload(jpeg_with_gps((800, 600), orientation=6), max_bytes=LIMIT)
    stored = Image.open(io.BytesIO(processed.data))
    assert stored.size == (600, 800)


def test_big_photos_are_shrunk_and_previews_are_small() -> None:
    processed = process_upload(jpeg_with_gps((4000, 3000)), max_bytes=LIMIT)
    full = Image.open(io.BytesIO(processed.data))
    assert max(full.size) <= FULL_EDGE
    assert processed.preview is not None
    preview = Image.open(io.BytesIO(processed.preview))
    assert max(preview.size) == PREVIEW_EDGE
    assert len(processed.preview) < len(processed.data)


def test_transparent_png_is_flattened_on_white() -> None:
    processed = process_upload(png(alpha=True), max_bytes=LIMIT)
    assert Image.open(io.BytesIO(processed.data)).mode == "RGB"


def test_a_16_bit_greyscale_png_keeps_its_grey() -> None:
    out = io.BytesIO()
    Image.new("I;16", (64, 48), 32768).save(out, format="PNG")  # mid-grey of 0..65535
    processed = process_upload(out.getvalue(), max_bytes=LIMIT)
    red, green, blue = Image.open(io.BytesIO(processed.data)).convert("RGB").getpixel((32, 24))
    assert red == green == blue
    assert 120 <= red <= 136


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"hello, this is text pretending to be a photo", "wrong_type"),
        (gif(), "wrong_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "wrong_type"),
        (jpeg_with_gps()[:1500], "corrupt"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "corrupt"),
        (b"%PDF-x.y\nxref\nstartxref\n0\n%%EOF", "corrupt"),
        (b"%PDF-1.7 xref startxref %%EOF", "corrupt"),
        (pdf().replace(b"/Count 1", b"/Count 0").replace(b"/Kids [3 0 R]", b"/Kids []"), "corrupt"),
        (pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "), "pdf_active"),
        (png_bomb(), "too_many_pixels"),
        (heic_header(), "heic_unsupported"),
    ],
    ids=[
        "empty",
        "text",
        "gif",
        "svg",
        "truncated jpeg",
        "pdf without trailer",
        "pdf bad version",
        "pdf only markers",
        "pdf without pages",
        "pdf with javascript",
        "decompression bomb",
        "heic",
    ],
)
def test_bad_files_are_refused_with_a_code(data: bytes, code: str) -> None:
    assert _rejected(data) == code


def test_a_file_over_the_limit_is_refused_before_decoding() -> None:
    assert _rejected(jpeg_with_gps(), max_bytes=1000) == "too_large"
