"""User story: before giving their number, a citizen reads what the office does with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from e2e.conftest import RunningPortal, assert_accessible


def test_the_notice_opens_from_the_phone_step_and_reads_well_on_a_phone(
    page: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    page.goto(portal.base_url + "/e-service/general-request/phone")
    link = page.locator("main a[data-privacy-link]")
    expect(link).to_be_visible()
    with page.context.expect_page() as opened:
        link.click()
    notice = opened.value
    notice.wait_for_load_state()
    expect(notice.get_by_role("heading", level=1)).to_have_text("ประกาศความเป็นส่วนตัว")
    expect(notice.locator("[data-retention-days]")).to_contain_text("1825")
    # No sideways scrolling at 390 px.
    assert notice.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(notice, "privacy-notice")
    # The form the citizen was filling is still there in the first tab.
    expect(page.locator("#phone")).to_be_visible()


def test_the_notice_works_without_javascript_and_in_english(
    page_without_js: Page, portal: RunningPortal, shoot: Callable[[Page, str], Any]
) -> None:
    page_without_js.goto(portal.base_url + "/track")
    page_without_js.locator("footer a[href='/privacy']").click()
    expect(page_without_js.get_by_role("heading", level=1)).to_have_text("ประกาศความเป็นส่วนตัว")
    page_without_js.get_by_role("link", name="English").click()
    expect(page_without_js.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    shoot(page_without_js, "privacy-notice-en-nojs")


def test_the_english_notice_passes_axe(page: Page, portal: RunningPortal) -> None:
    page.goto(portal.base_url + "/lang/en?next=/privacy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    assert_accessible(page)
