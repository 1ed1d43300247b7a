"""The page-weight budget on a cheap phone (issue: PWA and page weight), measured as sent:
gzip-compressed, as Litestar's compression middleware answers a browser."""

from __future__ import annotations

import gzip
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.citizen.helpers import send_code, verify_phone
from tests.conftest import html

HOME_BUDGET = 60 * 1024
STEP_BUDGET = 5 * 1024


def _sent_bytes(client: TestClient[Litestar], path: str, **headers: str) -> int:
    response = client.get(path, headers={"Accept-Encoding": "gzip", **headers})
    assert response.status_code == 200, path
    if response.headers.get("content-encoding") == "gzip":
        return len(gzip.compress(response.content))  # httpx decoded it; re-measure compressed
    return len(response.content)


def test_first_visit_to_the_home_page_fits_60_kb(client: TestClient[Litestar]) -> None:
    page = html(client.get("/"))
    urls = ["/"]
    urls += [link["href"] for link in page.select("link[rel=stylesheet], link[rel=icon]")]
    urls += [script["src"] for script in page.select("script[src]")]
    total = sum(_sent_bytes(client, url) for url in urls)
    assert total <= HOME_BUDGET, f"{total} bytes for {urls}"


def test_every_htmx_step_response_fits_5_kb(client: TestClient[Litestar], run_db: Any) -> None:
    htmx = {"HX-Request": "true", "HX-Target": "dialog-body"}
    sizes = {
        "menu": _sent_bytes(client, "/e-service", **{"HX-Request": "true"}),
        "phone": _sent_bytes(client, "/e-service/general-request/phone", **htmx),
    }
    send_code(client, "0800000090")
    sizes["otp"] = _sent_bytes(client, "/e-service/general-request/verify", **htmx)
    verify_phone(client, run_db, "0800000091", "+66800000091")
    sizes["form"] = _sent_bytes(client, "/e-service/general-request/form", **{"HX-Request": "true"})
    assert all(size <= STEP_BUDGET for size in sizes.values()), sizes


def test_text_responses_are_compressed(client: TestClient[Litestar]) -> None:
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"
