"""A real HTTP server on 127.0.0.1 standing in for an SMS gateway (the ``webhook`` contract).

It runs in a thread of the test process on a free port. ``mode`` scripts its behaviour:
``accept`` (200, the message counts as delivered), ``fail`` (500), ``hang`` (answers only after
the client has given up, so the message does not count) and ``stop()``/``start()`` for a
gateway that is down (connections refused) and comes back on the same port.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG_SECONDS = 1.0
"""Longer than any read timeout the tests give the dispatcher."""


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 refuses connections when dispatchers send in bulk
    allow_reuse_address = True


class FakeGateway:
    def __init__(self) -> None:
        self.mode = "accept"
        self.delay = 0.0
        """Seconds an accepting gateway takes to answer."""
        self.accepted: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str, dict[str, Any]]] = []
        """Every request as it came: (method, path, content type, JSON body)."""
        self.attempts: Counter[str] = Counter()
        self.refused = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with gateway._lock:
                    content_type = self.headers.get("content-type", "")
                    gateway.requests.append(("POST", self.path, content_type, payload))
                status = gateway._answer(payload)
                if status is None:
                    return
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = _Server(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Down: the port refuses connections until ``start()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _answer(self, payload: dict[str, Any]) -> int | None:
        message_id = str(payload.get("id"))
        with self._lock:
            self.attempts[message_id] += 1
            mode = self.mode
            if mode == "accept":
                self.accepted.append(payload)
        if mode == "accept":
            time.sleep(self.delay)
            return 200
        if mode == "hang":
            time.sleep(HANG_SECONDS)
            with self._lock:
                self.refused += 1
            return None
        with self._lock:
            self.refused += 1
        return 500

    def accepted_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(str(payload["id"]) for payload in self.accepted)

    def texts_to(self, phone: str) -> list[str]:
        with self._lock:
            return [payload["text"] for payload in self.accepted if payload["to"] == phone]

    def attempt_count(self) -> int:
        with self._lock:
            return sum(self.attempts.values())


@contextmanager
def running_gateway() -> Iterator[FakeGateway]:
    gateway = FakeGateway()
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, step: float = 0.02) -> None:
    """Poll ``condition`` (from a thread that is not the dispatcher's) for a bounded time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


async def eventually(condition: Callable[[], Any], timeout: float = 15.0) -> None:
    """Like ``wait_until`` inside an event loop, so dispatcher tasks keep running meanwhile.

    ``condition`` may be a plain function or return an awaitable (a database check).
    """
    import asyncio
    import inspect

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")
