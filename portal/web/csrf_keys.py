"""CSRF tokens signed with an old secret, accepted once more and moved to the current one.

Litestar's CSRF token is ``<random hex><HMAC of it under one secret>``, kept in a cookie the
browser holds until it closes and copied into each form (or the htmx header). Litestar never
replaces a cookie it cannot verify, so after ``PORTAL_SECRET_KEY`` changes every browser
would be refused (403) on its next form, an officer's sign-in included, until the error page
drops the cookie.

This middleware sits before Litestar's: when the cookie verifies under a key from
``PORTAL_OLD_SECRET_KEYS``, it re-signs the same random part under the current key, both in
the request (the cookie, and the token the request carries: header or form field) and in
the browser (a new cookie on the response). The proof CSRF rests on is unchanged: a request
passes only if it carries, besides the cookie, the very token the cookie holds, which another
site cannot read. The form is read only for such a request (a browser's first after a key
change), and then handed on unchanged.

With no old secret configured it does nothing at all.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from portal.keyring import as_ring

RANDOM_HEX = 64
"""Litestar's token: 32 random bytes as hex, then a SHA-256 HMAC as hex (64 more)."""


def _signed(random_part: str, secret: str) -> str:
    return random_part + hmac.new(secret.encode(), random_part.encode(), hashlib.sha256).hexdigest()


def _cookie_value(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    for header, value in headers:
        if header != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, cookie = part.strip().partition("=")
            if key == name:
                return cookie
    return None


class CsrfKeyRotation:
    def __init__(self, app: ASGIApp, *, csrf: CSRFConfig, key: bytes) -> None:
        self.app = app
        self.csrf = csrf
        ring = as_ring(key)
        self.current = ring.current.hex()
        self.older = tuple(old.hex() for old in ring.older)

    def _resigned(self, token: str) -> str | None:
        """``token`` under the current key, when an old key signed it; else None."""
        if len(token) != 2 * RANDOM_HEX or hmac.compare_digest(
            _signed(token[:RANDOM_HEX], self.current), token
        ):
            return None
        random_part = token[:RANDOM_HEX]
        if any(hmac.compare_digest(_signed(random_part, old), token) for old in self.older):
            return _signed(random_part, self.current)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not self.older:
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", []))
        old = _cookie_value(headers, self.csrf.cookie_name)
        new = self._resigned(old) if old else None
        if old is None or new is None:
            await self.app(scope, receive, send)
            return
        header_name = self.csrf.header_name.lower().encode()
        carried = any(name == header_name and value == old.encode() for name, value in headers)
        if not carried and scope.get("method") not in self.csrf.safe_methods:
            receive, body = await _buffered(receive)
            carried = old.encode() in body
        rewritten = [
            (name, value.replace(old.encode(), new.encode()) if name == b"cookie" else value)
            for name, value in headers
            if not (carried and name == header_name)
        ]
        if carried:
            rewritten.append((header_name, new.encode()))
        scope["headers"] = rewritten
        state = ScopeState.from_scope(scope)
        state.headers = Empty
        state.cookies = Empty
        await self.app(scope, receive, self._sending_cookie(send, new))

    def _sending_cookie(self, send: Send, token: str) -> Send:
        cookie = Cookie(
            key=self.csrf.cookie_name,
            value=token,
            path=self.csrf.cookie_path,
            secure=self.csrf.cookie_secure,
            httponly=self.csrf.cookie_httponly,
            samesite=self.csrf.cookie_samesite,
            domain=self.csrf.cookie_domain,
        )

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableScopeHeaders.from_message(message)
                already = any(
                    value.startswith(f"{self.csrf.cookie_name}=")
                    for value in response_headers.getall("set-cookie", [])
                )
                if not already:  # the 403 page may be dropping it
                    response_headers.add("set-cookie", cookie.to_header(header=""))
            await send(message)

        return wrapped


async def _buffered(receive: Receive) -> tuple[Receive, bytes]:
    """The whole body (already bounded by ``BodyLimits``), and a ``receive`` that replays it."""
    messages: list[Any] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

    async def replay() -> Any:
        if messages:
            return messages.pop(0)
        return await receive()

    return replay, body
