"""Security headers on every response, and the names our cookies go by.

One ``before_send`` hook, so that every answer carries the headers: pages, partials, redirects,
static files, and the error pages Litestar produces before any route is found (404, 405).

- ``Content-Security-Policy``: scripts, styles, images and connections from our own origin
  only. No inline script or style is allowed, and none is needed: htmx is configured by its
  ``<meta name="htmx-config">`` (with ``includeIndicatorStyles`` off, so it injects no
  ``<style>``, and ``allowEval`` off), ``app.js`` is an external file, and the staff enrolment
  QR code is inline SVG markup (presentation attributes such as ``fill``, no ``style``).
  ``frame-ancestors 'none'`` keeps every page out of frames (clickjacking); ``form-action``
  and ``base-uri`` stop an injected form or ``<base>`` from sending data elsewhere.
- ``Referrer-Policy: no-referrer``: tracking tokens travel in URLs (``/t/<token>``) and must
  never leak to another site through a link.
- ``Cache-Control: no-store`` on every dynamic answer that does not choose its own: pages
  carry names, ID numbers, phone numbers and complaint text (a 422 re-render holds what was
  typed), and phones are shared. Static files (``/static``, ``/assets``) keep their caching;
  handlers that set ``Cache-Control`` themselves (the CSV export, the PWA files) keep theirs.
- ``Strict-Transport-Security`` in production only: development is served over plain http.

Cookies: outside development each cookie is named with the ``__Host-`` prefix, which browsers
accept only with ``Secure``, ``Path=/`` and no ``Domain``, so no other host (a sibling
subdomain of the office's domain) can plant or overwrite it. In development the portal runs
over plain http, where a ``Secure`` cookie is never sent back, so the plain names are kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
HSTS = "max-age=63072000; includeSubDomains"
"""Two years; ``includeSubDomains`` covers only names under the portal's own host."""

ALWAYS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate it
    "cross-origin-opener-policy": "same-origin",
    # Geolocation for the portal's own pages only: the "use my current location" button.
    # The photo picker needs no camera permission (the phone's own camera app takes it).
    "permissions-policy": "camera=(), microphone=(), geolocation=(self), payment=(), usb=()",
}
CACHEABLE_PREFIXES = ("/static/", "/assets/")
"""Files that are the same for everybody; every other answer may hold personal data."""

HOST_PREFIX = "__Host-"


def cookie_name(name: str, *, secure: bool) -> str:
    """``__Host-<name>`` where cookies are ``Secure``; the plain name in development."""
    return f"{HOST_PREFIX}{name}" if secure else name


def security_headers(*, production: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """The ``before_send`` hook for ``create_app``."""
    fixed = dict(ALWAYS)
    if production:
        fixed["strict-transport-security"] = HSTS

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in fixed.items():
            headers[name] = value
        path = str(scope.get("path", ""))
        if "cache-control" not in headers and not path.startswith(CACHEABLE_PREFIXES):
            headers["cache-control"] = "no-store"

    return add_headers
