"""Files as phones make them (and as attackers make them), and the complaint journey."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from portal.attachments.after_photos import add_after_photo
from portal.attachments.config import AttachmentConfig
from portal.settings import Settings
from portal.tables.office import DEFAULT_OFFICE_ID
from tests.citizen.helpers import verify_phone
from tests.conftest import csrf_token, html
from tests.staff.helpers import office_ref

SERVICE = "complaint"
COMPLAINT = {
    "first_name": "สมศรี",
    "last_name": "ทดสอบ",
    "topic": "เหตุเดือดร้อนรำคาญ",
    "place": "หน้าตลาดสด",
    "details": "ไฟถนนดับทั้งซอย",
}
FIRST_PHONE = 2000


def phone(n: int) -> tuple[str, str]:
    """Test number ``n`` of 080-000-2000..080-000-2999: (national, E.164)."""
    assert 0 <= n <= 999
    digits = f"80000{FIRST_PHONE + n:04d}"
    return "0" + digits, "+66" + digits


GPS_LATITUDE = 13.756331


def jpeg_with_gps(size: tuple[int, int] = (800, 600), orientation: int = 1) -> bytes:
    """A camera photo: EXIF with the phone's model, its GPS position and an orientation."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1] // 4))  # a mark top-left
    exif = Image.Exif()
    exif[0x010F] = "TestPhone"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (13.0, 45.0, 22.79)
    gps[3] = "E"
    gps[4] = (100.0, 30.0, 6.1)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def png(size: tuple[int, int] = (300, 200), alpha: bool = False) -> bytes:
    image = Image.new(
        "RGBA" if alpha else "RGB", size, (10, 120, 60, 128) if alpha else (10, 120, 60)
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (0, 90, 200)).save(out, format="WEBP")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, format="GIF")
    return out.getvalue()


def pdf(extra: bytes = b"") -> bytes:
    """A minimal one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_with_object_stream(hidden: bytes) -> bytes:
    """A one-page PDF 1.5 whose catalog names object 4, kept compressed inside an object
    stream (object 5) and found through a cross-reference stream: ``hidden`` (the body of
    object 4) never appears in the file's bytes."""
    stream = zlib.compress(b"4 0 " + hidden)
    plain = [
        b"<< /Type /Catalog /Pages 2 0 R /Names 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(plain, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    objstm = len(out)
    out += (
        b"5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n"
        % len(stream)
        + stream
        + b"\nendstream\nendobj\n"
    )
    xref = len(out)
    # Entries (type, field 2, field 3) for objects 0..6: 1 = at offset, 2 = in object stream.
    rows = [(0, 0, 255)] + [(1, o, 0) for o in offsets] + [(2, 5, 0), (1, objstm, 0), (1, xref, 0)]
    table = b"".join(struct.pack(">BIB", *row) for row in rows)
    out += (
        b"6 0 obj\n<< /Type /XRef /Size 7 /Root 1 0 R /W [1 4 1] /Length %d >>\nstream\n"
        % len(table)
        + table
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    )
    return bytes(out)


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A small PNG that claims 400 megapixels (its pixel data compresses to almost nothing)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def heic_header() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200


def open_form(client: TestClient[Litestar], run_db: Any, n: int) -> str:
    """Prove phone ``n`` and open the complaint form; returns the form's key."""
    verify_phone(client, run_db, *phone(n), service=SERVICE)
    page = html(client.get(f"/e-service/{SERVICE}/form"))
    field = page.select_one("input[name=submission_key]")
    assert field is not None
    return str(field["value"])


def upload(
    client: TestClient[Litestar],
    key: str,
    data: bytes,
    name: str = "photo.jpg",
    mime: str = "image/jpeg",
) -> Any:
    """What the form's script does for one picked file."""
    token = csrf_token(client, f"/e-service/{SERVICE}/form")
    return client.post(
        f"/e-service/{SERVICE}/form/attachments",
        data={"submission_key": key},
        files={"file": (name, data, mime)},
        headers={"x-csrftoken": token},
    )


def file_complaint(
    client: TestClient[Litestar],
    key: str,
    *,
    attachment_ids: list[int] = (),  # type: ignore[assignment]
    files: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    **extra: str,
) -> Any:
    token = csrf_token(client, f"/e-service/{SERVICE}/form")
    data: dict[str, Any] = {**COMPLAINT, "submission_key": key, "_csrf_token": token, **extra}
    if attachment_ids:
        data["attachment"] = [str(i) for i in attachment_ids]
    return client.post(
        f"/e-service/{SERVICE}/form",
        data=data,
        files=[("photos", f) for f in files] or None,
        follow_redirects=False,
    )


def pending_ids(response: Any) -> list[int]:
    return [int(str(i["value"])) for i in html(response).select("input[name=attachment]")]


def pending_upload(browser: TestClient[Litestar]) -> tuple[str, int]:
    """A browser verified to file (for any service) opens the complaint form and picks a
    photo: (the form's key, the pending upload's id)."""
    page = html(browser.get(f"/e-service/{SERVICE}/form"))
    field = page.select_one("input[name=submission_key]")
    assert field is not None
    key = str(field["value"])
    ids = pending_ids(upload(browser, key, jpeg_with_gps()))
    return key, ids[-1]


async def attach_after_photo(
    settings: Settings, number: str, staff_id: int, office_id: int = DEFAULT_OFFICE_ID
) -> int:
    """Staff's "after" photo on an existing request of ``office_id``, through the service (no
    browser)."""
    info = await add_after_photo(
        AttachmentConfig.from_settings(settings).store,
        office=await office_ref(settings, office_id),
        number=number,
        staff_id=staff_id,
        actor="test",
        client_ip="",
        data=jpeg_with_gps(),
        original_name="after.jpg",
        max_bytes=settings.attachment_max_bytes,
    )
    return info.id
