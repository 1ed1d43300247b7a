"""The office layer before routing: an unknown host's plain 404, and a 503 with Retry-After
when the database cannot say which office a request is for."""

from __future__ import annotations

from typing import Any

from portal.kernel.offices import OfficeRef
from portal.web.offices import OfficeResolver
from tests.conftest import fresh


class _Settings:
    is_development = False


class _Directory:
    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error

    async def for_host(self, host: str) -> OfficeRef | None:
        if self.error is not None:
            raise self.error
        return OfficeRef(id=2, slug="b", name="b") if host == "b.example.test" else None


def _answer(directory: _Directory, host: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    sent: list[dict[str, Any]] = []
    reached: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["portal_office"].slug)

    async def send(message: Any) -> None:
        sent.append(message)

    resolver = OfficeResolver(inner, directory, _Settings())  # type: ignore[arg-type]
    scope = {"type": "http", "path": "/", "headers": [(b"host", host)]}
    fresh(resolver(scope, None, send))  # type: ignore[arg-type]
    return sent, reached


def test_a_known_host_reaches_the_app_and_an_unknown_one_gets_the_plain_404() -> None:
    assert _answer(_Directory(), b"b.example.test:443") == ([], ["b"])
    sent, reached = _answer(_Directory(), b"elsewhere.example")
    assert reached == [] and sent[0]["status"] == 404
    assert b"b.example.test" not in sent[1]["body"]


def test_a_database_that_cannot_answer_is_a_503_with_retry_after() -> None:
    sent, reached = _answer(_Directory(ConnectionResetError("restart")), b"b.example.test")
    assert reached == [] and sent[0]["status"] == 503
    assert (b"retry-after", b"5") in sent[0]["headers"]
    assert "ระบบขัดข้องชั่วคราว".encode() in sent[1]["body"]
