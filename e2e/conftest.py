"""Browser journeys: a real ``portal serve`` process, Debian's Chromium, a phone viewport."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("PORTAL_E2E_ARTIFACTS", ROOT / "artifacts" / "e2e"))
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}


@dataclass(frozen=True)
class RunningPortal:
    base_url: str
    env: dict[str, str]

    def outbox(self, phone: str) -> list[dict[str, str]]:
        """Read the SMS outbox the way the README tells a developer to."""
        output = subprocess.run(
            [sys.executable, "-m", "portal.cli", "sms", "outbox", "--to", phone, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        messages: list[dict[str, str]] = json.loads(output)
        return messages

    def latest_code(self, phone: str) -> str:
        for message in self.outbox(phone):
            if message["purpose"] == "otp":
                return next(
                    word for word in message["text"].split() if word.isdigit() and len(word) == 6
                )
        raise AssertionError(f"no OTP SMS for {phone}")


_CONTEXTS_WITH_JAVASCRIPT: set[int] = set()


def _javascript_on(page: Page) -> bool:
    return id(page.context) in _CONTEXTS_WITH_JAVASCRIPT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_portal(data_dir: Path, port: int, env: dict[str, str]) -> Iterator[RunningPortal]:
    """`portal serve` as an operator starts it, on this port with this environment, until the
    home page answers; stopped on exit. Its log is ``data_dir/serve.log``."""
    log = (data_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base_url + "/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError((data_dir / "serve.log").read_text())
        time.sleep(0.2)
    try:
        yield RunningPortal(base_url=base_url, env=env)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("portal-e2e")
    env = {
        **os.environ,
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_OTP_IP_HOURLY_LIMIT": "1000",
        # Every browser comes from 127.0.0.1: the distinct phones one address may bring is
        # tested in tests/security/test_otp_address_limits.py, not here.
        "PORTAL_OTP_IP_PHONES_HOURLY_LIMIT": "1000",
    }
    env.pop("PORTAL_SECRET_KEY", None)
    if os.environ.get("PORTAL_TEST_DATABASE_URL"):
        env["PORTAL_DATABASE_URL"] = os.environ["PORTAL_TEST_DATABASE_URL"]
    with serve_portal(data_dir, port, env) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_phone_context(browser: Browser, *, javascript: bool) -> BrowserContext:
    context = browser.new_context(
        viewport=PHONE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="th-TH",
        java_script_enabled=javascript,
    )
    if javascript:
        # axe-core needs scripts; pages without JavaScript are the same markup, checked when
        # the same steps run with it.
        key = id(context)
        _CONTEXTS_WITH_JAVASCRIPT.add(key)
        # ids are reused once a context is gone: forget it on close, or a later context
        # without JavaScript could be mistaken for this one.
        context.on("close", lambda _: _CONTEXTS_WITH_JAVASCRIPT.discard(key))
    return context


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = new_phone_context(browser, javascript=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def page_without_js(browser: Browser) -> Iterator[Page]:
    context = new_phone_context(browser, javascript=False)
    yield context.new_page()
    context.close()


AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def assert_accessible(page: Page) -> None:
    """Run axe-core (pinned in package-lock.json) on the page as it is now: no violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's strict CSP (no inline
        # script) does not govern; a <script> tag would be refused, as it should be.
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;true")
    violations = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))",
        AXE_TAGS,
    )
    assert violations == [], f"axe-core on {page.url}: {violations}"


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> object:
    """Save a screenshot under artifacts/e2e/<test name>/ for people to look at."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        """Screenshot the step, and check it with axe-core while it is on screen."""
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        if _javascript_on(page):
            assert_accessible(page)
        return path

    return take
