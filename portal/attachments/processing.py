"""What an uploaded file really is, decided by its content, and the copy the portal keeps.

The name and the content type a browser sends are the client's claims: both are ignored.
A file is a photo if Pillow decodes it as one of the formats phones produce, and a PDF if
pypdf parses it and finds at least one page. Photos are never stored as sent: they are
decoded, turned upright (EXIF orientation), re-encoded as JPEG without any metadata (EXIF
carries the GPS position of the camera, the phone's model and serial), shrunk to a sensible
size, and given a small preview for phones on slow connections. Failures are codes; the Thai
sentences live in ``templates/attachments/_messages.html``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

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
PDF_ACTIVE_NAMES = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/OpenAction",
        "/AA",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/XFA",
        "/RichMedia",
    }
)
"""A PDF that can run code, act on its own (on opening, on a page or field event), send a form,
open another document or carries other files is refused: staff open these files. A plain web
link (``/URI`` on click) is allowed: official letters carry them, and a click is the reader's
choice, as in an e-mail. Matched on names as pypdf decodes them (``/J#61vaScript`` is
``/JavaScript``), as keys and as values (``/S /Launch``), in every object reachable from the
trailer, including those inside compressed object streams."""
PDF_MAX_OBJECTS = 200_000
"""More objects than this is a file built to keep the check busy, not a citizen's document."""


class UploadRejected(ValueError):
    """``code``: empty, too_large, wrong_type, corrupt, too_many_pixels, heic_unsupported,
    pdf_active, too_many (files), too_many_pending (files on forms not sent, per phone),
    missing (a pending upload gone), already_sent (the form was filed already)."""

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
    """A PDF that pypdf opens and finds pages in, with no active content anywhere."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if len(reader.pages) < 1:
            raise UploadRejected("corrupt")
        _refuse_active_content(reader.trailer)
    except UploadRejected:
        raise
    except Exception as error:  # pypdf fails on bad files in many ways
        raise UploadRejected("corrupt") from error
    return Processed("application/pdf", "pdf", data, None)


def _refuse_active_content(trailer: DictionaryObject) -> None:
    """Every object reachable from the trailer, each indirect object once, up to a cap."""
    seen: set[tuple[int, int]] = set()
    todo: list[PdfObject] = [trailer]
    visited = 0
    while todo:
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise UploadRejected("corrupt")
        item = todo.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            resolved = item.get_object()
            if resolved is not None:
                todo.append(resolved)
        elif isinstance(item, DictionaryObject):
            # dict's own items: the raw values, references not yet resolved.
            for name, value in dict.items(item):
                if str(name) in PDF_ACTIVE_NAMES:
                    raise UploadRejected("pdf_active")
                todo.append(value)
        elif isinstance(item, ArrayObject):
            todo.extend(list.__iter__(item))
        elif isinstance(item, NameObject) and str(item) in PDF_ACTIVE_NAMES:
            raise UploadRejected("pdf_active")


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
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale (scanners, some apps): to RGB it would clip to white; scale to 8 bits.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
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
