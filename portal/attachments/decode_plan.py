"""How much memory a photo will take to decode, read from its header before it is decoded.

Pillow's ``Image.open`` reads only the header: the size, the mode the pixels decode to and,
for a JPEG, how it was written. From these ``plan_decode`` chooses how big to decode (a JPEG
decodes at 1/2, 1/4 or 1/8 of its size for little work) and refuses what would still cost
more than ``DECODE_BUDGET``: a small file that claims many pixels, deep or wide pixel modes,
a progressive JPEG whose decoder keeps every coefficient of the whole image.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import sys
from collections.abc import Iterator

from PIL import Image

from portal.attachments.outcome import UploadRejected

MMAP_THRESHOLD = 1024 * 1024


def _give_freed_pixels_back() -> None:
    """Allocations of a megabyte or more (decoded pixels, a file's bytes) are mapped on their
    own and unmapped when freed. glibc's default moves that threshold up to 32 MB after the
    first large free, and then keeps freed pixels in each worker thread's heap: five photos
    in turn on five threads held five photos' memory for the life of the process."""
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD; a fixed value stops the sliding
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to tune
        return


_give_freed_pixels_back()

DECODE_BUDGET = 64 * 1024 * 1024
"""Bytes one photo may hold while it is decoded and shrunk (``decode_cost``), checked on the
header before any pixel is decoded. 64 MB takes a 16 MP PNG or any JPEG a phone saves
(decoded at a reduced scale), and keeps one upload's peak memory near 100 MB
(``bench/upload_memory.py``)."""
MODE_COST = {
    "1": 2,  # one byte per pixel, and the greyscale copy it is shrunk from
    "L": 1,
    "P": 5,  # one byte per pixel, and its RGB(A) copy (Pillow keeps RGB in 4 bytes)
    "I;16": 3,  # two bytes per pixel, and the 8-bit copy
    "I;16B": 3,
    "I;16L": 3,
    "LA": 8,  # 4 bytes per pixel, and the premultiplied copy an alpha-correct shrink makes
    "PA": 8,
    "RGBA": 8,
    "RGB": 4,
    "CMYK": 4,
    "YCbCr": 4,
}
"""Bytes per decoded pixel, by the mode Pillow decodes to, until the photo is shrunk. Any
other mode (32-bit integer or float pixels) is no photo a phone makes, and is refused."""
FORMAT_COST = {"WEBP": 16, "AVIF": 12, "HEIF": 12}
"""Bytes per pixel a codec holds besides Pillow's pixels: libwebp and libavif decode the
frame into buffers of their own that Pillow then copies (measured: about 20 bytes per pixel
in all for WebP, 15 for AVIF), so these decode up to about 3 MP (a phone screenshot)."""
JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
"""Baseline, extended and progressive Huffman JPEG: what cameras and browsers write."""


def decode_cost(image: Image.Image, data: bytes) -> int:
    """Bytes one photo holds at once while it is decoded and shrunk, if decoded at its
    current size: the pixels in the mode they decode to, the copy a conversion or an
    alpha-correct shrink makes at that size, and what the codec keeps besides (libwebp and
    libavif a frame of their own; libjpeg, for a progressive or multi-scan file, every DCT
    coefficient of the whole image, whatever the scale it outputs at)."""
    width, height = image.size
    extra = 0
    if image.format in ("JPEG", "MPO") and _jpeg_buffers_whole_image(data):
        extra = _jpeg_coefficient_bytes(image)
    return width * height * _per_pixel(image) + extra


def _per_pixel(image: Image.Image) -> int:
    return MODE_COST[image.mode] + FORMAT_COST.get(str(image.format), 0)


def plan_decode(image: Image.Image, data: bytes, edge: int) -> None:
    """Choose how big to decode, and refuse what would still cost more than ``DECODE_BUDGET``.

    A JPEG decodes at 1/2, 1/4 or 1/8 of its size for little work (``draft``): the smallest
    scale that still gives ``edge`` (the stored size), or a smaller one when that would not fit the
    budget (the stored photo is then a little under 2560 px rather than refused). Other
    formats decode whole, so for them the budget is the refusal line."""
    cost = decode_cost(image, data)
    if image.format in ("JPEG", "MPO"):
        if _jpeg_frame_type(data) not in JPEG_FRAMES:
            raise UploadRejected("wrong_type")  # lossless, arithmetic, hierarchical: no phone
        width, height = image.size
        extra = cost - width * height * _per_pixel(image)
        target = _fitted(width, height, edge)
        scale = next(
            (s for s in (8, 4, 2) if width // s >= target[0] and height // s >= target[1]), 1
        )
        while scale < 8 and _ceil(width, scale) * _ceil(height, scale) * _per_pixel(
            image
        ) + extra > (DECODE_BUDGET):
            scale *= 2
        image.draft(image.mode, (max(1, width // scale), max(1, height // scale)))
        cost = image.size[0] * image.size[1] * _per_pixel(image) + extra
    if cost > DECODE_BUDGET:
        raise UploadRejected("too_many_pixels")


def _ceil(size: int, scale: int) -> int:
    return -(-size // scale)


def _fitted(width: int, height: int, edge: int) -> tuple[int, int]:
    ratio = min(1.0, edge / max(width, height))
    return max(1, int(width * ratio)), max(1, int(height * ratio))


_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
"""The next marker after entropy-coded data: 0xFF not followed by a stuffed zero, a restart
marker or another fill byte."""


def _jpeg_segments(data: bytes) -> Iterator[int]:
    """The markers of the first image in a JPEG file, up to its end (EOI), skipping segment
    bodies by their length and scan data to the next marker. Stops quietly at a broken or
    truncated structure: the decoder judges those."""
    pos, size = 2, len(data)
    while pos + 4 <= size and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        yield marker
        if marker == 0xD9:
            return
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:
            found = _JPEG_MARKER.search(data, pos)
            if found is None:
                return
            pos = found.start()


def _jpeg_frame_type(data: bytes) -> int:
    for marker in _jpeg_segments(data):
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return marker
    return 0


def _jpeg_buffers_whole_image(data: bytes) -> bool:
    """Progressive, or sequential with more than one scan: libjpeg then keeps every DCT
    coefficient of the image (2 bytes per coefficient) until the last scan is read."""
    scans = 0
    for marker in _jpeg_segments(data):
        if marker == 0xC2:
            return True
        if marker == 0xDA:
            scans += 1
            if scans > 1:
                return True
    return False


def _jpeg_coefficient_bytes(image: Image.Image) -> int:
    """The coefficient arrays libjpeg allocates: one 8x8 block of 16-bit values per block of
    each component at its sampling, at the file's full size (before any ``draft``)."""
    layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * len(image.getbands())
    width, height = image.size
    h_max = max(int(layer[1]) for layer in layers)
    v_max = max(int(layer[2]) for layer in layers)
    total = 0
    for layer in layers:
        blocks_wide = _ceil(_ceil(width * int(layer[1]), h_max), 8) + int(layer[1])
        blocks_high = _ceil(_ceil(height * int(layer[2]), v_max), 8) + int(layer[2])
        total += blocks_wide * blocks_high * 64 * 2
    return total
