"""Request bodies are cut off early: too big (413) before a byte is read, too slow (408).

uvicorn has no body read timeout (``--timeout-keep-alive`` only covers the wait between
requests), so one client sending headers that announce a 1 MB form and then a byte now and
then holds a connection and a worker's coroutine for as long as it likes, and many of them
starve the server (slow loris). Litestar's ``request_max_body_size`` refuses big bodies, but
only once a handler or the CSRF middleware starts reading.

``BodyLimits`` runs around every route, outside the CSRF middleware (which reads the form
before anything else):

- a ``Content-Length`` above the route's own limit (the app-wide ``MAX_BODY_BYTES``, or the
  larger ones the upload routes set) is a 413 at once, with nothing read;
- while the body is coming in, each wait for the next chunk is bounded by the idle timeout
  (``PORTAL_BODY_IDLE_TIMEOUT``, 10 s), and the whole body by a deadline
  (``PORTAL_BODY_DEADLINE``, 30 s) that grows for a big upload by the time it takes at
  ``MIN_UPLOAD_RATE`` (a phone on a poor connection still gets its photos through). Past
  either, a 408 (Thai page) and uvicorn closes the connection (the body was not all read).

Once the body is complete nothing is timed: Litestar keeps listening to ``receive`` for the
client's disconnect while it streams an answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

MIN_UPLOAD_RATE = 32 * 1024
"""Bytes a second a body past the default size must keep up on average (256 kbit/s: a weak
3G or EDGE phone still makes it)."""


class RequestBodyTimeout(HTTPException):
    status_code = 408


class RequestBodyTooLarge(HTTPException):
    status_code = 413


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else None
    return None


def _expects_body(scope: Scope, declared: int | None) -> bool:
    if declared is not None:
        return declared > 0
    return any(name == b"transfer-encoding" for name, _ in scope.get("headers", ()))


class BodyLimits:
    """ASGI middleware; add with ``DefineMiddleware(BodyLimits, idle_timeout=..., ...)``."""

    def __init__(
        self, app: ASGIApp, *, idle_timeout: float, deadline: float, default_max_body: int
    ) -> None:
        self.app = app
        self.idle_timeout = idle_timeout
        self.deadline = deadline
        self.default_max_body = default_max_body

    def _limit(self, scope: Scope) -> int:
        handler: Any = scope.get("route_handler")
        resolve = getattr(handler, "resolve_request_max_body_size", None)
        resolved = resolve() if resolve is not None else None
        return int(resolved or self.default_max_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        limit = self._limit(scope)
        if declared is not None and declared > limit:
            raise RequestBodyTooLarge(detail="request body too large")
        if not _expects_body(scope, declared):
            await self.app(scope, receive, send)
            return
        expected = min(declared if declared is not None else limit, limit)
        allowed = self.deadline + max(0, expected - self.default_max_body) / MIN_UPLOAD_RATE
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + allowed
        complete = False

        async def timed_receive() -> ReceiveMessage:
            nonlocal complete
            if complete:
                return await receive()
            wait = min(self.idle_timeout, ends_at - loop.time())
            if wait <= 0:
                raise RequestBodyTimeout(detail="request body too slow")
            try:
                async with asyncio.timeout(wait):
                    message = await receive()
            except TimeoutError:
                raise RequestBodyTimeout(detail="request body too slow") from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        await self.app(scope, timed_receive, send)
