"""The web app manifest, the service worker and the offline page.

The service worker lives at the site root (its scope is the whole portal) and is rendered from
a template so that it precaches the current hashed asset URLs; its cache name changes with
them, so a deploy replaces the old cache. It never caches pages: personal pages must not sit
in a phone's cache, and every page is small.
"""

from __future__ import annotations

import hashlib
import mimetypes

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File, Template

from portal.web.assets import ONE_YEAR, AssetManifest

PRECACHE = (
    "app.css",
    "app.js",
    "uploads.js",
    "drafts.js",
    "vendor/htmx.min.js",
    "icons/icon-192.png",
)


@get("/manifest.webmanifest", name="pwa_manifest", media_type="application/manifest+json")
async def manifest() -> Template:
    return Template(
        template_name="pwa/manifest.webmanifest",
        media_type="application/manifest+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@get("/sw.js", name="pwa_service_worker", media_type="text/javascript")
async def service_worker(assets: NamedDependency[AssetManifest]) -> Template:
    urls = [assets.url(name) for name in PRECACHE]
    version = hashlib.sha256("|".join(urls).encode()).hexdigest()[:12]
    return Template(
        template_name="pwa/sw.js",
        context={"precache": urls, "cache_version": version},
        media_type="text/javascript",
        # Browsers check for a new worker on navigation; never let a proxy hold an old one.
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@get("/offline", name="pwa_offline")
async def offline() -> Template:
    return Template(template_name="pwa/offline.html")


@get("/assets/{digest:str}/{name:path}", name="asset", include_in_schema=False)
async def asset(
    assets: NamedDependency[AssetManifest], digest: FromPath[str], name: FromPath[str]
) -> File:
    path = assets.file_for(digest, name.lstrip("/"))
    if path is None:
        raise NotFoundException()
    media_type, _ = mimetypes.guess_type(path.name)
    return File(
        path=path,
        media_type=media_type or "application/octet-stream",
        content_disposition_type="inline",
        headers={"Cache-Control": f"public, max-age={ONE_YEAR}, immutable"},
    )
