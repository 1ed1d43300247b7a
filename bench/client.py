"""A small HTTP/1.1 keep-alive client for the load driver.

The driver shares the machine's cores with the server it measures, so it must cost as little
as possible per request: raw asyncio streams, no redirects followed for it, no URL objects.
It speaks just what the portal answers (Content-Length or chunked bodies, gzip) and keeps a
browser's cookies.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

HOST = "127.0.0.1"
"""The only address the benchmark ever sends to."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "") or self.headers.get("hx-location", "")


@dataclass
class Browser:
    """One citizen's browser: cookies, a client address (behind our trusted proxy), a socket."""

    port: int
    client_ip: str
    host: str = ""
    """The Host header (which office a request is for); empty: 127.0.0.1 and the port."""
    cookies: dict[str, str] = field(default_factory=dict)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(HOST, self.port)
        return self._reader, self._writer

    def _cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def _keep_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        lowered = attributes.lower()
        if not value or value == '""' or "max-age=0" in lowered or "1970" in lowered:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def post_form(self, path: str, data: dict[str, str]) -> Response:
        body = urlencode(data).encode()
        return await self.request(
            "POST", path, body, content_type="application/x-www-form-urlencoded"
        )

    async def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> Response:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host or f'{HOST}:{self.port}'}",
            "Accept: text/html",
            "Accept-Encoding: gzip",
            f"X-Forwarded-For: {self.client_ip}",
        ]
        if self.cookies:
            lines.append(f"Cookie: {self._cookie_header()}")
        if body is not None:
            lines.append(f"Content-Type: {content_type}")
            lines.append(f"Content-Length: {len(body)}")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        started = time.perf_counter()
        reader, writer = await self._connect()
        writer.write(payload)
        try:
            response = await self._read(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        response.seconds = time.perf_counter() - started
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        return response

    async def _read(self, reader: asyncio.StreamReader) -> Response:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            if name == "set-cookie":
                self._keep_cookie(value)
            else:
                headers[name] = value
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            body = b"".join(chunks)
        else:
            body = await reader.read()
            headers["connection"] = "close"
        if headers.get("content-encoding") == "gzip":
            body = zlib.decompress(body, zlib.MAX_WBITS | 16)
        return Response(status, headers, body, 0.0)
