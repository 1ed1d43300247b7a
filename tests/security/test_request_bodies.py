"""Issue 13, point 10: slow or huge unauthenticated bodies are cut off early.

Against a real ``portal serve`` (uvicorn), from raw sockets, as an attacker would:

- slow loris: headers announcing a 1 MB form, then a byte now and then, or nothing at all.
  Before, uvicorn has no body timeout and the CSRF middleware waited for the form for ever;
  now the idle timeout or the body deadline ends it with a 408 (or the connection closes);
- a 50 MB body to a page that takes a small form: a 413 at once, without the server reading
  it (the client is stopped long before it has sent it all), with a ``Content-Length`` and
  without one (chunked);
- the server is still there for everybody afterwards.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.security.figures import FIGURES
from tests.security.helpers import portal_serve
from tests.security.serving import serve_env

IDLE = 2
DEADLINE = 4
PATH = "/e-service/general-request/phone"
"""A citizen page whose POST takes a small form (the phone number), open to anyone."""
HUGE = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, migrated_database: str) -> Iterator[int]:
    tmp_path = tmp_path_factory.mktemp("bodies")
    port = free_port()
    env = serve_env(
        tmp_path,
        migrated_database,
        port,
        PORTAL_BODY_IDLE_TIMEOUT=str(IDLE),
        PORTAL_BODY_DEADLINE=str(DEADLINE),
    )
    with portal_serve(env, port, tmp_path / "serve.log"):
        yield port


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    return sock


def head(port: int, length: int | None, path: str = PATH) -> bytes:
    size = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{size}\r\n\r\n"
    ).encode()


def answer(sock: socket.socket) -> bytes:
    """What the server said before closing (b"" when it closed without a word)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data:
                break
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def status_of(data: bytes) -> int | None:
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None


def assert_server_alive(port: int) -> None:
    assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200


def test_a_body_that_stops_coming_is_cut_off_after_the_idle_timeout(server: int) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head(server, 1_000_000) + b"phone=08")
        said = answer(sock)
        took = time.monotonic() - started
    FIGURES.add("slow_bodies_cut_off", 1)
    print(f"stalled body: {status_of(said)} after {took:.1f} s (idle timeout {IDLE} s)")
    assert status_of(said) in (408, None), said[:200]
    assert IDLE - 0.5 <= took < IDLE + 5, took
    assert_server_alive(server)


def test_a_trickled_body_is_cut_off_at_the_deadline(server: int) -> None:
    """A byte every half second never trips the idle timeout; the deadline ends it."""
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head(server, 1_000_000))
        sock.settimeout(0.5)
        said = b""
        while time.monotonic() - started < DEADLINE + 10:
            try:
                sock.sendall(b"a")
            except OSError:
                break
            try:
                said = sock.recv(65536)
                break
            except TimeoutError:
                continue
        took = time.monotonic() - started
    FIGURES.add("slow_bodies_cut_off", 1)
    print(f"trickled body: {status_of(said)} after {took:.1f} s (deadline {DEADLINE} s)")
    assert status_of(said) in (408, None), said[:200]
    assert took < DEADLINE + 3, took
    assert_server_alive(server)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_huge_body_to_a_small_form_is_refused_without_being_read(
    server: int, declared: bool
) -> None:
    block = b"a" * 65536
    sent = 0
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(head(server, HUGE if declared else None))
        sock.settimeout(0.05)
        said = b""
        while sent < HUGE:
            try:
                piece = block if declared else b"%x\r\n%s\r\n" % (len(block), block)
                sock.sendall(piece)
                sent += len(block)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            try:
                said = sock.recv(65536)
                if said:
                    break
            except TimeoutError:
                continue
        if not said:
            sock.settimeout(10)
            said = answer(sock)
        took = time.monotonic() - started
    FIGURES.add("huge_bodies_refused", 1)
    print(f"50 MB body: {status_of(said)} after {took:.2f} s, {sent / 1024:.0f} KiB sent")
    assert status_of(said) == 413, said[:200]
    # Refused long before 50 MB went over the wire (the app-wide cap is 1 MB).
    assert sent < 8 * 1024 * 1024, sent
    assert took < 10, took
    assert_server_alive(server)


def nested(depth: int, shape: str) -> bytes:
    if shape == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("depth", [10_000, 100_000])
@pytest.mark.parametrize("shape", ["list", "object"])
@pytest.mark.parametrize("token", ["right", "wrong"])
def test_deeply_nested_json_to_the_delivery_reports_is_a_4xx_not_a_500(
    tmp_path: Path, database: str, depth: int, shape: str, token: str
) -> None:
    """Before, ``json.loads`` raised ``RecursionError`` (a 500) for anyone, token or not: the
    body is parsed before the credential is checked. Now nesting past 32 is a 400 and a body
    past 64 KB a 413, both before parsing."""
    from portal.sms.report_routes import MAX_JSON_DEPTH, MAX_REPORT_BYTES
    from tests.sms.reports import TOKEN, report_portal

    body = nested(depth, shape)
    url = f"/sms/reports/webhook/{TOKEN if token == 'right' else 'wrong-token-000000'}"
    with report_portal(tmp_path, database, "webhook") as portal:
        response = portal.post(url, content=body, headers={"content-type": "application/json"})
        FIGURES.add("nested_json_refused", 1)
        expected = 413 if len(body) > MAX_REPORT_BYTES else 400
        assert response.status_code == expected, (len(body), response.status_code)
        # A real report, nested a little, still goes through.
        fine = b'{"id": "1", "status": "delivered", "extra": ' + nested(MAX_JSON_DEPTH - 1, shape)
        fine += b"}"
        answered = portal.post(url, content=fine, headers={"content-type": "application/json"})
        assert answered.status_code == (204 if token == "right" else 403)


def test_the_upload_routes_keep_their_own_larger_limits(client: Any) -> None:
    """The app-wide 1 MB cap is on every route but the ones that take files: a 2 MB body is
    refused unread on a text form, and read (then judged on its own) by the photo upload."""
    two_mb = b"a" * (2 * 1024 * 1024)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    for path in (PATH, "/staff/sign-in", "/track"):
        assert client.post(path, content=two_mb, headers=headers).status_code == 413, path
    upload = client.post(
        "/e-service/general-request/form/attachments", content=two_mb, headers=headers
    )
    assert upload.status_code not in (413, 500)
