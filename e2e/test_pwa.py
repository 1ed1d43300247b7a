"""User story: a citizen installs the portal to the home screen and uses it on a bad network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from e2e.conftest import RunningPortal


def test_portal_is_installable_and_has_an_offline_page(
    page: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    page.goto(portal.base_url + "/")
    # The stylesheet and scripts really apply (a wrong content type is refused under nosniff).
    header = page.locator(".site-header")
    expect(header).to_have_css("background-color", "rgb(11, 93, 59)")
    assert page.evaluate("typeof window.htmx === 'object'")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Test browser contexts are incognito, which alone blocks installing; every other check
    # (manifest, icons, service worker, secure origin) must pass.
    assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors
    manifest = cdp.send("Page.getAppManifest")
    assert not manifest.get("errors"), manifest.get("errors")

    # Once the worker controls the page, a lost network shows the Thai offline page.
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    try:
        page.goto(portal.base_url + "/e-service")
        expect(page.get_by_role("heading", name="ไม่มีการเชื่อมต่ออินเทอร์เน็ต")).to_be_visible()
        shoot(page, "offline")
    finally:
        page.context.set_offline(False)


def test_text_size_switch_is_remembered(page: Page, portal: RunningPortal) -> None:
    page.goto(portal.base_url + "/")
    page.get_by_role("button", name="ใหญ่").click()
    expect(page.locator("html")).to_have_class("text-large")
    page.reload()
    expect(page.locator("html")).to_have_class("text-large")
    expect(page.get_by_role("button", name="ใหญ่")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="ปกติ").click()
    expect(page.locator("html")).not_to_have_class("text-large")


def test_pages_reflow_at_200_percent_zoom(browser: Any, portal: RunningPortal) -> None:
    """WCAG 1.4.10: at 200% zoom a 390 px phone is 195 CSS px wide; nothing may need sideways
    scrolling."""
    context = browser.new_context(viewport={"width": 195, "height": 422}, locale="th-TH")
    page = context.new_page()
    for path in ("/", "/e-service", "/e-service/general-request/phone", "/track"):
        page.goto(portal.base_url + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at 200% zoom"
    context.close()
