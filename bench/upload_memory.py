"""Peak memory of checking one upload, and of five at once: the figures behind issue 13 point 7.

    .venv/bin/python -m bench.upload_memory            # every sample, alone and five at once

Each measurement runs in a fresh process: the portal's upload code is imported and the file's
bytes are in memory first, the peak (``VmHWM``) is reset to the current size, then the file
goes through ``portal.attachments.intake.processed_upload`` (the semaphore included) and the
growth of the peak is printed, with the answer (kept, or the refusal code). The samples are
the attack shapes: small files that claim many pixels, 16-bit and alpha PNGs just under the
pixel cap, truncated copies, a progressive JPEG of large dimensions, text-chunk bombs, and the
honest photos beside them.
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

MB = 1024 * 1024
MAX_BYTES = 10 * MB


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(
    width: int,
    height: int,
    *,
    depth: int = 8,
    colour: int = 0,
    extra: bytes = b"",
    rows: int | None = None,
) -> bytes:
    """A PNG of ``width`` x ``height`` zero pixels written row by row (so it stays small
    however large it claims to be); ``rows`` writes fewer rows than the header says (a
    truncated copy); ``extra`` goes before the pixel data."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = b"\x00" + b"\x00" * (width * channels * depth // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height if rows is None else rows)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    palette = _chunk(b"PLTE", b"\x00\x00\x00" * 256) if colour == 3 else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + palette
        + extra
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def ztxt_bomb() -> bytes:
    """A small PNG whose compressed text chunks inflate to many megabytes while the header
    is read."""
    text = zlib.compress(b"\x00" * (8 * MB), 9)
    chunks = b"".join(_chunk(b"zTXt", b"k%d\x00\x00" % i + text) for i in range(16))
    return raw_png(64, 64, extra=chunks)


def jpeg(
    size: tuple[int, int], *, progressive: bool = False, mode: str = "RGB", subsampling: int = 0
) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, 128).save(
        out, format="JPEG", quality=80, progressive=progressive, subsampling=subsampling
    )
    return out.getvalue()


def _half(data: bytes) -> bytes:
    """A truncated copy: the first half of the file."""
    return data[: len(data) // 2]


def webp(size: tuple[int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (10, 90, 200)).save(out, format="WEBP", quality=50)
    return out.getvalue()


def gif_frames(frames: int = 100, size: tuple[int, int] = (1000, 1000)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    first = Image.new("P", size)
    rest = [Image.new("P", size, i % 255) for i in range(1, frames)]
    first.save(out, format="GIF", save_all=True, append_images=rest)
    return out.getvalue()


def photo_png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, (40, 160, 90, 200)[: len(mode)]).save(out, format="PNG")
    return out.getvalue()


def pdf_objects(count: int) -> bytes:
    """A one-page PDF with ``count`` small dictionaries, all in the cross-reference table and
    all reachable (an array in the catalog names them)."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R /Extra 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"[" + b" ".join(b"%d 0 R" % n for n in range(5, 5 + count)) + b"]",
    ]
    bodies += [b"<< /N %d /Name (item) /Kids [1 2 3] >>" % n for n in range(count)]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def pdf_inflate_bomb() -> bytes:
    """A one-page PDF whose (unreferenced) stream inflates to 2 GB from 2 MB, listed as an
    object stream so the check must inflate it to read what it holds."""
    squeezed = zlib.compressobj(9)
    body = b"".join(squeezed.compress(b"\x00" * MB) for _ in range(2048)) + squeezed.flush()
    stream = (
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(body)
        + body
        + b"\nendstream"
    )
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        stream,
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, part in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + part + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n"
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


SAMPLES: dict[str, Callable[[], bytes]] = {
    "png 40 MP 16-bit RGBA (bomb)": lambda: raw_png(6320, 6320, depth=16, colour=6),
    "png 40 MP 8-bit RGB (bomb)": lambda: raw_png(6320, 6320, colour=2),
    "png 40 MP grey": lambda: raw_png(6320, 6320),
    "png 40 MP 16-bit grey": lambda: raw_png(6320, 6320, depth=16),
    "png 40 MP palette": lambda: raw_png(6320, 6320, colour=3),
    "png 400 MP (bomb)": lambda: raw_png(20_000, 20_000, rows=10),
    "png 16 MP RGB, truncated": lambda: _half(raw_png(4000, 4000, colour=2)),
    "png 12 MP RGBA photo, truncated": lambda: _half(photo_png((4000, 3000), "RGBA")),
    "png text-chunk bomb": ztxt_bomb,
    "png 12 MP RGBA photo": lambda: photo_png((4000, 3000), "RGBA"),
    "jpeg 12 MP photo": lambda: jpeg((4000, 3000)),
    "jpeg 40 MP": lambda: jpeg((7300, 5470)),
    "jpeg 40 MP progressive 4:4:4": lambda: jpeg((7300, 5470), progressive=True),
    "jpeg 16 MP progressive": lambda: jpeg((4620, 3460), progressive=True),
    "jpeg 40 MP CMYK": lambda: jpeg((7300, 5470), mode="CMYK"),
    "jpeg 40 MP truncated": lambda: _half(jpeg((7300, 5470))),
    "jpeg 12 MP progressive 4:2:0": lambda: jpeg((4000, 3000), progressive=True, subsampling=2),
    "webp 8000 x 3000": lambda: webp((8000, 3000)),
    "webp 3.2 MP (at the budget)": lambda: webp((1800, 1800)),
    "gif 100 frames": gif_frames,
    "pdf 5,000 objects": lambda: pdf_objects(5_000),
    "pdf 45,000 objects": lambda: pdf_objects(45_000),
    "pdf 60,000 objects": lambda: pdf_objects(60_000),
    "pdf inflate bomb": pdf_inflate_bomb,
}


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def _reset_peak() -> None:
    """``echo 5 > /proc/self/clear_refs``: the peak starts again from the current size."""
    Path("/proc/self/clear_refs").write_text("5")


def child(paths: list[str]) -> None:
    """Process the files at ``paths`` at once; print the peak's growth (MB) and the answers."""
    import gc

    from portal.attachments.intake import processed_upload
    from portal.attachments.processing import UploadRejected

    blobs = [Path(path).read_bytes() for path in paths]

    async def one(data: bytes) -> str:
        try:
            processed = await processed_upload(data, MAX_BYTES)
        except UploadRejected as error:
            return error.code
        if processed.content_type == "application/pdf":
            return "kept pdf"
        return f"kept {processed.width}x{processed.height}"

    async def run() -> list[str]:
        return list(await asyncio.gather(*(one(data) for data in blobs)))

    asyncio.run(_warm_up())
    gc.collect()
    _reset_peak()
    before = _peak_kb()
    answers = asyncio.run(run())
    growth = (_peak_kb() - before) / 1024
    print(json.dumps({"growth_mb": round(growth, 1), "answers": answers}))


async def _warm_up() -> None:
    """One small photo first: codec libraries and thread pools loaded before the baseline."""
    from portal.attachments.intake import processed_upload

    await processed_upload(jpeg((64, 48)), MAX_BYTES)
    await processed_upload(photo_png((64, 48)), MAX_BYTES)


def measure(samples: list[bytes]) -> tuple[float, list[str]]:
    """Peak RSS growth (MB) of one fresh process checking ``samples`` at once, and answers."""
    with tempfile.TemporaryDirectory(prefix="upload-memory-") as folder:
        paths = []
        for index, data in enumerate(samples):
            path = Path(folder) / f"{index}.bin"
            path.write_bytes(data)
            paths.append(str(path))
        done = subprocess.run(
            [sys.executable, "-m", "bench.upload_memory", "--child", *paths],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return float(result["growth_mb"]), list(result["answers"])


def main() -> None:
    print(f"{'sample':34} {'size':>9} {'alone MB':>9} {'5 at once MB':>13}  answer")
    for name, make in SAMPLES.items():
        data = make()
        alone, answers = measure([data])
        together, _ = measure([data] * 5)
        print(f"{name:34} {len(data) // 1024:>7}KB {alone:>9.1f} {together:>13.1f}  {answers[0]}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
    else:
        main()
