"""Installable on a phone: manifest, service worker, offline page, hashed long-lived assets."""

from __future__ import annotations

import json
import re

from litestar import Litestar
from litestar.testing import TestClient

from tests.conftest import html


def test_manifest_names_the_portal_in_thai_with_installable_icons(
    client: TestClient[Litestar],
) -> None:
    page = html(client.get("/"))
    assert page.select_one("link[rel=manifest]")["href"] == "/manifest.webmanifest"
    response = client.get("/manifest.webmanifest")
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text)
    assert manifest["lang"] == "th"
    assert "เทศบาลตำบลตัวอย่าง" in manifest["name"]
    assert manifest["short_name"] == "e-Service"
    assert manifest["display"] == "standalone"
    assert manifest["start_url"].startswith("/")
    icons = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= icons
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200
        assert image.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_pages_link_hashed_assets_that_are_cached_for_a_year(
    client: TestClient[Litestar],
) -> None:
    page = html(client.get("/"))
    stylesheet = page.select_one("link[rel=stylesheet]")["href"]
    assert re.fullmatch(r"/assets/[0-9a-f]{12}/app\.css", stylesheet)
    response = client.get(stylesheet)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    script = page.select_one("script[src*='app.js']")["src"]
    assert (
        client.get(script)
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]
    assert client.get(stylesheet.replace("/assets/", "/assets/0", 1)).status_code == 404
    assert client.get("/assets/000000000000/app.css").status_code == 404
    assert client.get("/assets/000000000000/../settings.py").status_code == 404


def test_service_worker_precaches_current_assets_and_the_offline_page(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/sw.js")
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    page = html(client.get("/"))
    for script in page.select("script[src]"):
        # Every script a page loads is precached: an installed portal opens offline whole.
        assert script["src"] in response.text
    assert '"/offline"' in response.text
    # Pages are never put in the cache: only /assets/ responses are.
    assert "cache.put(request" in response.text
    assert 'indexOf("/assets/") === 0' in response.text


def test_offline_page_speaks_thai(client: TestClient[Litestar]) -> None:
    page = html(client.get("/offline"))
    assert page.select_one("h1").get_text(strip=True) == "ไม่มีการเชื่อมต่ออินเทอร์เน็ต"
