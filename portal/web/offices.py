"""Which office a request is for, decided before Litestar routes it.

The office comes from the request's host name (``office_host``); in development also from a
path prefix, ``/o/<slug>/...``, so several offices can be tried on 127.0.0.1. The prefix becomes
the ASGI ``root_path`` (Litestar routes what follows it), links made with ``url_for`` and the
``Location`` of redirects carry it again. An unknown host, or a disabled office, gets a plain
404 that names no office. Handlers receive the office as ``office: NamedDependency[OfficeRef]``,
templates through ``current_office()``; guards and hooks through ``office_of(connection)``.

This is an ASGI layer around Litestar's handler (like ``portal.ops.gateway``), not a Litestar
middleware: those run after routing, too late to take a prefix off the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from jinja2 import pass_context
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.template.base import url_for as litestar_url_for
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from portal.db_engines import office_scope
from portal.kernel.offices import DEV_PREFIX, OfficeDirectory, OfficeRef
from portal.settings import Settings
from portal.web.errors import DATABASE_RETRY_AFTER, database_unavailable

SCOPE_KEY = "portal_office"
OFFICES_STATE_KEY = "offices"
NOT_FOUND_BODY = (
    '<!doctype html><html lang="th"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>404</title><h1>ไม่พบหน้านี้ / Not found</h1></html>"
).encode()
"""ไม่พบหน้านี้ / Not found: nothing about any office, not even whether one exists."""
UNAVAILABLE_BODY = (
    '<!doctype html><html lang="th"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>503</title><h1>ระบบขัดข้องชั่วคราว กรุณาลองใหม่อีกครั้ง / "
    "Temporarily unavailable, please try again</h1></html>"
).encode()
"""The database could not say which office this is (a restart): try again in a few seconds."""
REWRITTEN_HEADERS = (b"location", b"hx-redirect", b"hx-location")


def office_of(connection: ASGIConnection[Any, Any, Any, Any]) -> OfficeRef:
    """The office of this request (guards, hooks and the ``office`` dependency)."""
    return cast(OfficeRef, connection.scope[SCOPE_KEY])  # type: ignore[literal-required]


def offices_of(app: Litestar) -> OfficeDirectory:
    directory: OfficeDirectory = app.state[OFFICES_STATE_KEY]
    return directory


def provide_office(request: ASGIConnection[Any, Any, Any, Any]) -> OfficeRef:
    return office_of(request)


@pass_context
def current_office(context: Mapping[str, Any]) -> OfficeRef:
    """``current_office()`` in templates."""
    return office_of(context["request"])


@pass_context
def prefixed_url_for(context: Mapping[str, Any], /, route_name: str, **params: Any) -> str:
    """Litestar's ``url_for`` with the development prefix in front, when there is one."""
    path = litestar_url_for(context, route_name, **params)
    root = context["request"].scope.get("root_path", "")
    return f"{root}{path}" if root and not path.startswith(root + "/") else path


def host_of(scope: Scope) -> str:
    """The request's host, lower case, without a port (``[::1]:8000`` -> ``[::1]``)."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1").strip().lower()
            if host.startswith("["):
                return host.split("]", 1)[0] + "]"
            return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return ""


class OfficeResolver:
    """Puts the request's office in ``scope["portal_office"]`` or answers 404 itself."""

    def __init__(self, app: ASGIApp, directory: OfficeDirectory, settings: Settings) -> None:
        self.app = app
        self.directory = directory
        self.prefixes = settings.is_development

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        try:
            office, prefix = await self._resolve(scope)
        except Exception as error:
            if not database_unavailable(error):
                raise
            await _plain(send, 503, UNAVAILABLE_BODY, retry_after=DATABASE_RETRY_AFTER)
            return
        if office is None:
            await _plain(send, 404, NOT_FOUND_BODY)
            return
        cast(dict[str, Any], scope)[SCOPE_KEY] = office
        if prefix:
            scope["root_path"] = scope.get("root_path", "") + prefix
            send = _prefixing(send, prefix)
        with office_scope(office.id):  # PostgreSQL's row security follows it (db_engines)
            await self.app(scope, receive, send)

    async def _resolve(self, scope: Scope) -> tuple[OfficeRef | None, str]:
        path: str = scope["path"]
        if self.prefixes and path.startswith(DEV_PREFIX):
            slug = path[len(DEV_PREFIX) :].split("/", 1)[0]
            office = await self.directory.by_slug(slug)
            prefix = f"{DEV_PREFIX}{slug}"
            if office is None or not office.active or not path.startswith(prefix + "/"):
                return None, ""
            return office, prefix
        return await self.directory.for_host(host_of(scope)), ""


def _prefixing(send: Send, prefix: str) -> Send:
    """Redirects made without the prefix get it (``Redirect("/s/...")``, ``HX-Redirect``)."""
    wanted = prefix.encode()

    async def send_with_prefix(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, wanted + value)
                if name.lower() in REWRITTEN_HEADERS
                and value.startswith(b"/")
                and not value.startswith(wanted + b"/")
                else (name, value)
                for name, value in message.get("headers", ())
            ]
            message = cast(Message, {**message, "headers": headers})
        await send(message)

    return send_with_prefix


async def _plain(send: Send, status: int, body: bytes, retry_after: str = "") -> None:
    """An answer made here, before the app: plain, naming no office, with the portal's own
    strict headers (no script, no framing)."""
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    ]
    if retry_after:
        headers.append((b"retry-after", retry_after.encode()))
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def install(app: Litestar, settings: Settings) -> OfficeDirectory:
    """Put the resolver around the app's handler; the directory is also ``offices_of(app)``."""
    directory = OfficeDirectory(settings)
    app.state[OFFICES_STATE_KEY] = directory
    app.asgi_handler = OfficeResolver(app.asgi_handler, directory, settings)
    return directory
