"""Issue 13, point 7 (a small image cannot eat the server's memory) and point 10's upload burst.

The attack: a 154 KB PNG took about 600 MB to process, three at once about 2 GB, and truncated
copies were decoded and never counted. Each sample below is measured in a fresh process
(``bench/upload_memory.py``: the peak resident size, ``VmHWM``, reset after the imports and the
file's bytes, then read after the check): under 150 MB of growth for one file the portal keeps
or refuses, under 300 MB for five at once. Refused files count toward the phone's upload
quota, and the quota holds when thirty uploads arrive at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from bench.upload_memory import SAMPLES, measure
from portal.attachments.pending import PENDING_PER_PHONE
from portal.tables.attachment import Attachment
from portal.tables.upload_refusal import UploadRefusal
from tests.attachments.helpers import SERVICE, jpeg_with_gps, open_form, phone, upload
from tests.conftest import html

Browser = TestClient[Litestar]
ONE_FILE_MB = 150
FIVE_FILES_MB = 300

REFUSED = {
    "png 40 MP 16-bit RGBA (bomb)": "too_many_pixels",
    "png 40 MP palette": "too_many_pixels",
    "png 400 MP (bomb)": "too_many_pixels",
    "png 16 MP RGB, truncated": "corrupt",
    "png text-chunk bomb": "wrong_type",
    "jpeg 40 MP progressive 4:4:4": "too_many_pixels",
    "jpeg 40 MP truncated": "corrupt",
    "webp 8000 x 3000": "too_many_pixels",
    "gif 100 frames": "wrong_type",
    "pdf 45,000 objects": "corrupt",
    "pdf inflate bomb": "corrupt",
}
KEPT = (
    "png 40 MP grey",
    "jpeg 12 MP photo",
    "jpeg 40 MP CMYK",
    "webp 3.2 MP (at the budget)",
    "pdf 5,000 objects",
)


@pytest.mark.parametrize("name", [*REFUSED, *KEPT])
def test_one_upload_stays_under_150_mb(name: str) -> None:
    growth, answers = measure([SAMPLES[name]()])
    expected = REFUSED.get(name)
    if expected is None:
        assert answers[0].startswith("kept"), answers
    else:
        assert answers == [expected]
    assert growth < ONE_FILE_MB, f"{name}: {growth} MB"


@pytest.mark.parametrize(
    "name",
    [
        "png 40 MP 16-bit RGBA (bomb)",
        "png 16 MP RGB, truncated",
        "png 40 MP grey",
        "jpeg 12 MP photo",
        "pdf 45,000 objects",
    ],
)
def test_five_uploads_at_once_stay_under_300_mb(name: str) -> None:
    growth, answers = measure([SAMPLES[name]()] * 5)
    assert len(set(answers)) == 1
    assert growth < FIVE_FILES_MB, f"{name}: {growth} MB"


def _error(response: Any) -> str:
    found = html(response).select_one("[data-upload-error]")
    assert found is not None, response.text
    return str(found["data-upload-error"])


def _new_form(client: Browser) -> str:
    field = html(client.get(f"/e-service/{SERVICE}/form")).select_one("input[name=submission_key]")
    assert field is not None
    return str(field["value"])


def test_refused_uploads_count_toward_the_phones_quota(client: Browser, run_db: Any) -> None:
    """Truncated copies and bombs cost the server work: fifteen of them use up the quota."""
    keys = [open_form(client, run_db, 910)] + [_new_form(client) for _ in range(2)]
    bad = [SAMPLES["png 16 MP RGB, truncated"](), SAMPLES["png 40 MP palette"]()]
    for index in range(PENDING_PER_PHONE):
        refused = upload(client, keys[index // 5], bad[index % 2], "p.png", "image/png")
        assert refused.status_code == 422
    refused = upload(client, _new_form(client), jpeg_with_gps())
    assert refused.status_code == 422 and _error(refused) == "too_many_pending"
    assert "แนบค้างไว้" in refused.text
    rows = run_db(lambda: UploadRefusal.select(UploadRefusal.phone, UploadRefusal.reason))
    assert len(rows) == PENDING_PER_PHONE
    assert {row["phone"] for row in rows} == {phone(910)[1]}
    assert {row["reason"] for row in rows} == {"corrupt", "too_many_pixels"}


def test_the_pending_cap_holds_under_a_parallel_burst(
    app: Litestar, client: Browser, run_db: Any
) -> None:
    """Thirty uploads at once over six open forms (five each, within every form's limit):
    exactly fifteen are kept, the others get the Thai "too many files waiting" answer."""
    keys = [open_form(client, run_db, 911)] + [_new_form(client) for _ in range(5)]
    page = client.get(f"/e-service/{SERVICE}/form")
    token = str(html(page).select_one("input[name=_csrf_token]")["value"])  # type: ignore[index]
    photo = jpeg_with_gps((64, 48))

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=str(client.base_url),
            cookies=dict(client.cookies),
        ) as browser:

            async def one(key: str) -> httpx.Response:
                return await browser.post(
                    f"/e-service/{SERVICE}/form/attachments",
                    data={"submission_key": key},
                    files={"file": ("photo.jpg", photo, "image/jpeg")},
                    headers={"x-csrftoken": token},
                )

            return list(await asyncio.gather(*(one(key) for key in keys for _ in range(5))))

    answers = run_db(burst)
    kept = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert len(kept) == PENDING_PER_PHONE
    assert {a.status_code for a in refused} == {422}
    assert {_error(a) for a in refused} == {"too_many_pending"}
    assert all("แนบค้างไว้" in a.text for a in refused)
    stored = run_db(lambda: Attachment.count().where(Attachment.phone == phone(911)[1]))
    assert stored == PENDING_PER_PHONE
    assert run_db(lambda: UploadRefusal.count()) == 0  # no slot left held
