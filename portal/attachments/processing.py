"""What an uploaded file really is, decided by its content, and the copy the portal keeps.

The name and the content type a browser sends are the client's claims: both are ignored.
A file is a photo if Pillow decodes it as one of the formats phones produce, and a PDF if
it has a PDF's header, trailer and cross-reference. Photos are never stored as sent: they are
decoded, turned upright (EXIF orientation), re-encoded as JPEG without any metadata (EXIF
carries the GPS position of the camera, the phone's model and serial), shrunk to a sensible
size, and given a small preview for phones on slow connections. Failures are codes; the Thai
sentences live in ``templates/attachments/_messages.html``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000
"""Larger than any phone camera's default output (a 200 MP sensor saves 12.5 MP by default);
a small file that claims more is a decompression bomb and is refused before it is decoded."""
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Pillow's own guard, kept as a second line: it warns above and refuses at twice this.

PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "AVIF", "HEIF"})
"""MPO is how Pillow names the multi-picture JPEGs many phones save; HEIF counts only when a
plugin lets Pillow open it (Pillow alone cannot: those files get ``heic_unsupported``)."""
HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
FULL_EDGE = 2560
PREVIEW_EDGE = 480
FULL_QUALITY = 85
PREVIEW_QUALITY = 70
PDF_ACTIVE_CONTENT = (b"/JavaScript", b"/JS ", b"/JS(", b"/JS<", b"/Launch", b"/EmbeddedFile")
"""A PDF that can run code or carries other files is refused: staff open these files."""


class UploadRejected(ValueError):
    """``code``: empty, too_large, wrong_type, corrupt, too_many_pixels, heic_unsupported,
    pdf_active, too_many (files), missing (a pending upload gone)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Processed:
    content_type: str
    extension: str
    data: bytes
    preview: bytes | None
    """A small JPEG for photos; ``None`` for PDFs (the page shows an icon instead)."""
    width: int = 0
    height: int = 0


def process_upload(data: bytes, *, max_bytes: int, max_pixels: int = MAX_PIXELS) -> Processed:
    if not data:
        raise UploadRejected("empty")
    if len(data) > max_bytes:
        raise UploadRejected("too_large")
    if data.startswith(b"%PDF-"):
        return _checked_pdf(data)
    return _reencoded_photo(data, max_pixels)


def _checked_pdf(data: bytes) -> Processed:
    """Header, trailer and cross-reference: what every PDF reader needs to open the file."""
    tail = data[-2048:]
    version = data[5:8]
    if not (version[:1] in (b"1", b"2") and version[1:2] == b"."):
        raise UploadRejected("corrupt")
    if b"%%EOF" not in tail or b"startxref" not in tail:
        raise UploadRejected("corrupt")
    if b"xref" not in data and b"/XRef" not in data:
        raise UploadRejected("corrupt")
    if any(marker in data for marker in PDF_ACTIVE_CONTENT):
        raise UploadRejected("pdf_active")
    return Processed("application/pdf", "pdf", data, None)


def _looks_like_heic(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in HEIC_BRANDS


def _reencoded_photo(data: bytes, max_pixels: int) -> Processed:
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise UploadRejected("too_many_pixels") from error
    except (OSError, SyntaxError, ValueError) as error:
        # Pillow's "cannot identify image file": not a photo format it knows at all.
        raise UploadRejected("heic_unsupported" if _looks_like_heic(data) else "wrong_type") from (
            error
        )
    with image:
        if image.format not in PHOTO_FORMATS:
            raise UploadRejected("wrong_type")
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise UploadRejected("too_many_pixels")
        try:
            if image.format in ("JPEG", "MPO"):
                # Decode big JPEGs at a fraction of their size: less memory, same result.
                image.draft("RGB", (FULL_EDGE, FULL_EDGE))
            image.load()
            upright = ImageOps.exif_transpose(image)
            full = _flattened(upright)
        except Image.DecompressionBombError as error:
            raise UploadRejected("too_many_pixels") from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise UploadRejected("corrupt") from error
    full.thumbnail((FULL_EDGE, FULL_EDGE), Image.Resampling.LANCZOS)
    preview = full.copy()
    preview.thumbnail((PREVIEW_EDGE, PREVIEW_EDGE), Image.Resampling.LANCZOS)
    return Processed(
        "image/jpeg",
        "jpg",
        _jpeg(full, FULL_QUALITY),
        _jpeg(preview, PREVIEW_QUALITY),
        full.width,
        full.height,
    )


def _flattened(image: Image.Image) -> Image.Image:
    """RGB pixels only, on white where the photo was transparent; a new image, so nothing of
    the original's metadata (``info``: EXIF, XMP, ICC, comments) comes along."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        clean = Image.new("RGB", rgba.size, (255, 255, 255))
        clean.paste(rgba, mask=rgba.getchannel("A"))
        return clean
    rgb = image.convert("RGB")
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()
