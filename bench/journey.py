"""A citizen's journey, as a browser without JavaScript makes it (full pages, 303s followed).

menu -> service card -> phone page -> phone sent -> code page -> (OTP read from the outbox) ->
code sent -> form page -> form sent -> success page -> (tracking link read from the receipt
SMS) -> tracking page. Each request is timed under its step's name.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections import defaultdict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench.client import Browser, Response

SERVICE = "general-request"
ANSWERS = {
    "title": "นาง",
    "first_name": "สมศรี",
    "last_name": "ทดสอบ",
    "citizen_id": "1234567890121",
    "address": "99 หมู่ 1 ตำบลตัวอย่าง",
    "subject": "ขอให้ซ่อมท่อระบายน้ำ",
    "details": "ท่อระบายน้ำหน้าบ้านอุดตัน",
}
PHONE_BASE = 66800100000
"""+66800100000 onwards: synthetic Thai mobile numbers, outside the tests' 0800000xxx range."""
PHONES = 100_000

_CSRF = re.compile(
    r'name="_csrf_token"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="_csrf_token"'
)
_KEY = re.compile(r'name="submission_key"[^>]*?value="([^"]+)"')
_CODE = re.compile(r"\b(\d{6})\b")
_TRACK = re.compile(r"/t/([A-Za-z0-9_\-]+)")


class JourneyError(Exception):
    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step = step


def phone_number(n: int) -> str:
    return f"+{PHONE_BASE + n % PHONES}"


def client_ip(n: int) -> str:
    """A made-up citizen address for X-Forwarded-For (198.18.0.0/15, the benchmarking range);
    only the header carries it, nothing is ever sent there."""
    return f"198.18.{(n >> 8) % 256}.{n % 256}"


class Outbox:
    """Reads the SMS the portal kept (the ``outbox`` backend), as ``portal sms outbox`` does."""

    async def latest(self, phone: str, purpose: str) -> str | None:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class SqliteOutbox(Outbox):
    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1)
        self._connection: sqlite3.Connection | None = None

    def _query(self, phone: str, purpose: str) -> str | None:
        if self._connection is None:
            self._connection = sqlite3.connect(self._path, timeout=30, check_same_thread=False)
            self._connection.execute("PRAGMA query_only = ON")
        row = self._connection.execute(
            "SELECT text FROM sms_message WHERE to_phone = ? AND purpose = ? "
            "ORDER BY id DESC LIMIT 1",
            (phone, purpose),
        ).fetchone()
        return str(row[0]) if row else None

    async def latest(self, phone: str, purpose: str) -> str | None:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._query, phone, purpose)

    async def close(self) -> None:
        self._executor.shutdown(wait=True)


class PostgresOutbox(Outbox):
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool = None

    async def latest(self, phone: str, purpose: str) -> str | None:
        import asyncpg

        if self._pool is None:
            self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=4)
        value = await self._pool.fetchval(
            "SELECT text FROM sms_message WHERE to_phone = $1 AND purpose = $2 "
            "ORDER BY id DESC LIMIT 1",
            phone,
            purpose,
        )
        return None if value is None else str(value)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


@dataclass
class Timings:
    """Seconds per request, by step; failures by step."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    filed: int = 0
    """Forms the portal answered with its 303 to the success page: each must be a request."""

    def add(self, step: str, response: Response) -> Response:
        self.seconds[step].append(response.seconds)
        return response

    def fail(self, step: str, detail: str) -> None:
        self.errors[step] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{step}: {detail}")

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.seconds.values())

    def all_seconds(self) -> list[float]:
        return [value for values in self.seconds.values() for value in values]


def _expect(step: str, response: Response, status: int) -> Response:
    if response.status != status:
        raise JourneyError(step, f"HTTP {response.status}, expected {status}")
    return response


def _csrf(step: str, response: Response) -> str:
    match = _CSRF.search(response.text)
    if match is None:
        raise JourneyError(step, "no CSRF token on the page")
    return match.group(1) or match.group(2)


async def _poll(step: str, read: Callable[[], Awaitable[str | None]]) -> str:
    for _ in range(200):
        found = await read()
        if found:
            return found
        await asyncio.sleep(0.01)
    raise JourneyError(step, "nothing in the outbox")


async def verified_form(
    browser: Browser, phone: str, outbox: Outbox, timings: Timings
) -> tuple[str, str]:
    """Menu to the form page, phone verified: the form's CSRF token and submission key."""
    step = f"/e-service/{SERVICE}"
    add = timings.add
    _expect("menu", add("menu", await browser.get("/e-service")), 200)
    start = _expect("card", add("card", await browser.get(step)), 303)
    if not start.location.endswith("/phone"):
        raise JourneyError("card", f"went to {start.location}")
    page = _expect("phone_page", add("phone_page", await browser.get(f"{step}/phone")), 200)
    sent = await browser.post_form(
        f"{step}/phone", {"phone": phone, "_csrf_token": _csrf("phone_page", page)}
    )
    _expect("phone_send", add("phone_send", sent), 303)
    page = _expect("code_page", add("code_page", await browser.get(f"{step}/verify")), 200)
    text = await _poll("otp", lambda: outbox.latest(phone, "otp"))
    code = _CODE.search(text)
    if code is None:
        raise JourneyError("otp", "no code in the SMS")
    checked = await browser.post_form(
        f"{step}/verify", {"code": code.group(1), "_csrf_token": _csrf("code_page", page)}
    )
    _expect("code_send", add("code_send", checked), 303)
    form = _expect("form_page", add("form_page", await browser.get(f"{step}/form")), 200)
    key = _KEY.search(form.text)
    if key is None:
        raise JourneyError("form_page", "no submission key")
    return _csrf("form_page", form), key.group(1)


async def submit(browser: Browser, csrf: str, key: str, timings: Timings) -> str:
    """Send the form: the success page's path."""
    sent = await browser.post_form(
        f"/e-service/{SERVICE}/form", {**ANSWERS, "_csrf_token": csrf, "submission_key": key}
    )
    _expect("form_send", timings.add("form_send", sent), 303)
    timings.filed += 1
    return sent.location


async def finish(
    browser: Browser, success_path: str, phone: str, outbox: Outbox, timings: Timings
) -> None:
    """Success page, then the tracking link from the receipt SMS."""
    _expect("success", timings.add("success", await browser.get(success_path)), 200)
    receipt = await _poll("receipt", lambda: outbox.latest(phone, "receipt"))
    token = _TRACK.search(receipt)
    if token is None:
        raise JourneyError("receipt", "no tracking link in the SMS")
    _expect("tracking", timings.add("tracking", await browser.get(f"/t/{token.group(1)}")), 200)


async def journey(port: int, n: int, outbox: Outbox, timings: Timings, host: str = "") -> bool:
    """One whole journey by citizen ``n`` on a new connection; False (and counted) if it failed.
    ``host``: the Host header, i.e. which office (bench/offices.py); empty: 127.0.0.1."""
    browser = Browser(port, client_ip(n), host)
    phone = phone_number(n)
    try:
        csrf, key = await verified_form(browser, phone, outbox, timings)
        success = await submit(browser, csrf, key, timings)
        await finish(browser, success, phone, outbox, timings)
        return True
    except JourneyError as error:
        timings.fail(error.step, str(error))
        return False
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        timings.fail("connection", f"{type(error).__name__}: {error}")
        return False
    finally:
        await browser.close()
