"""What an uploaded file really is, decided by its content, and the copy the portal keeps.

The name and the content type a browser sends are the client's claims: both are ignored.
A file is a photo if Pillow decodes it as one of the formats phones produce, and a PDF if
pypdf parses it and finds at least one page. Photos are never stored as sent: they are
decoded, turned upright (EXIF orientation), re-encoded as JPEG without any metadata (EXIF
carries the GPS position of the camera, the phone's model and serial), shrunk to a sensible
size, and given a small preview for phones on slow connections. Failures are codes; the Thai
sentences live in ``templates/attachments/_messages.html``.

Memory is bounded before any pixel is decoded (``decode_plan``: a budget per photo, reduced
decoding), then the photo is shrunk in the mode it decoded to before anything else is done
with it; PDFs are checked object by object (``pdf_check``).
"""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

from portal.attachments.decode_plan import MODE_COST, plan_decode
from portal.attachments.outcome import Processed, UploadRejected
from portal.attachments.pdf_check import checked_pdf

__all__ = ["FULL_EDGE", "PREVIEW_EDGE", "Processed", "UploadRejected", "process_upload"]

MAX_PIXELS = 40_000_000
"""Larger than any phone camera's default output (a 200 MP sensor saves 12.5 MP by default);
a small file that claims more is a decompression bomb and is refused before it is decoded."""
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Pillow's own guard, kept as a second line: it warns above and refuses at twice this.
PngImagePlugin.MAX_TEXT_CHUNK = 64 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = 256 * 1024
# A PNG's compressed text and ICC chunks are inflated while the header is read: Pillow allows
# 64 MB of them, a 150 KB file's worth of zeros. A photo needs a few kilobytes.

REDUCING_GAP = 3.0
"""``thumbnail`` first reduces by a whole factor (cheap, box average) down to three times the
final size, then resamples with Lanczos: the same look, a fraction of the memory and time."""
EXIF_ORIENTATION = 0x0112
ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "AVIF", "HEIF"})
"""MPO is how Pillow names the multi-picture JPEGs many phones save; HEIF counts only when a
plugin lets Pillow open it (Pillow alone cannot: those files get ``heic_unsupported``)."""
HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
FULL_EDGE = 2560
PREVIEW_EDGE = 480
FULL_QUALITY = 85
PREVIEW_QUALITY = 70


def process_upload(data: bytes, *, max_bytes: int, max_pixels: int = MAX_PIXELS) -> Processed:
    """The copy to keep, or ``UploadRejected`` with the reason.

    The refusal is raised afresh, without the decoder's exception as its cause: that
    exception's traceback holds the frames that hold the half-decoded pixels, and the event
    loop's futures keep a raised exception in a reference cycle until the garbage collector
    runs. A refused file's memory is given back when it is refused."""
    code = ""
    try:
        if not data:
            raise UploadRejected("empty")
        if len(data) > max_bytes:
            raise UploadRejected("too_large")
        if data.startswith(b"%PDF-"):
            return checked_pdf(data)
        return _reencoded_photo(data, max_pixels)
    except UploadRejected as error:
        code = error.code
    raise UploadRejected(code)


def _looks_like_heic(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in HEIC_BRANDS


def _reencoded_photo(data: bytes, max_pixels: int) -> Processed:
    try:
        image = Image.open(io.BytesIO(data), formats=_open_formats())
    except Image.DecompressionBombError as error:
        raise UploadRejected("too_many_pixels") from error
    except (OSError, SyntaxError, ValueError) as error:
        # Pillow's "cannot identify image file": not a photo format it knows at all.
        raise UploadRejected("heic_unsupported" if _looks_like_heic(data) else "wrong_type") from (
            error
        )
    with image:
        if image.format not in PHOTO_FORMATS or image.mode not in MODE_COST:
            raise UploadRejected("wrong_type")
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise UploadRejected("too_many_pixels")
        try:
            plan_decode(image, data, FULL_EDGE)  # refuses before any pixel is decoded
            image.load()
            # After load: a PNG's getexif() decodes the whole image to find a late eXIf chunk.
            orientation = int(image.getexif().get(EXIF_ORIENTATION, 1))
            work = _working_copy(image)
            # Shrunk in the decoded mode first (reduce, then resample): every later step
            # works on at most 2560 x 2560 pixels.
            work.thumbnail(
                (FULL_EDGE, FULL_EDGE), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP
            )
            full = _flattened(_upright(work, orientation))
        except UploadRejected:
            raise
        except Image.DecompressionBombError as error:
            raise UploadRejected("too_many_pixels") from error
        except (OSError, SyntaxError, ValueError, EOFError, TypeError) as error:
            raise UploadRejected("corrupt") from error
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


def _open_formats() -> list[str]:
    """Only the photo formats' readers look at the bytes: the other plugins' header parsers
    (TIFF, PSD, ICO, ...) never run on a citizen's file."""
    Image.init()
    return [name for name in ("JPEG", "PNG", "WEBP", "AVIF", "HEIF") if name in Image.OPEN]


def _working_copy(image: Image.Image) -> Image.Image:
    """The decoded pixels in a mode Pillow shrinks well: palette and bilevel images would be
    resampled by nearest neighbour, 16-bit grey would clip to white."""
    if image.mode.startswith("I;16"):
        # 16-bit greyscale (scanners, some apps): scaled to 8 bits in one table lookup.
        return image.point(lambda value: value / 256, "L")
    if image.mode == "1":
        return image.convert("L")
    if image.mode == "PA" or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    if image.mode == "P":
        return image.convert("RGB")
    return image


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """The EXIF orientation applied to the shrunk pixels (the tag itself is not kept)."""
    method = ORIENTATIONS.get(orientation)
    return image if method is None else image.transpose(method)


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
