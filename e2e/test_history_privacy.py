"""User story: a citizen files and tracks a request on a shared phone, then hands it on; nothing
they typed or were shown stays in the browser's storage.

htmx keeps snapshots of pages for its back button in web storage (``htmx-history-cache``);
those snapshots would hold the form with its answers, the success page with the request
number, the code step with the phone, and the tracking pages. Each of those partials carries
``hx-history="false"``, so htmx snapshots no page while one is on screen, and going back to it
asks the server again (a history-restore request gets the whole page,
``portal/web/rendering.py``). Pages without personal data (home, menu) keep their snapshots,
so the back button over the step dialog restores the menu as it was; turning the cache off
altogether (``historyCacheSize: 0``) broke that (``e2e/test_submission_journey.py``).
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from e2e.conftest import RunningPortal
from e2e.journeys import VALID_CITIZEN_ID, file_general_request

PHONE = "0800005101"

STORAGE = """() => {
  const dump = (store) => Object.fromEntries(
    Array.from({length: store.length}, (_, i) => store.key(i)).map((k) => [k, store.getItem(k)]));
  return JSON.stringify({local: dump(localStorage), session: dump(sessionStorage)});
}"""


def personal_strings(number: str) -> list[str]:
    national = PHONE
    return [
        national,
        f"{national[:3]}-{national[3:6]}-{national[6:]}",
        "+66" + national[1:],
        national[-4:] + "<",  # the masked phone's tail as it sits in markup
        number,
        VALID_CITIZEN_ID,
        "สมศรี",
        "ขอให้ซ่อมท่อระบายน้ำ",
        "ท่อระบายน้ำหน้าบ้านอุดตัน",
    ]


def test_no_personal_data_in_browser_storage_and_back_still_works(
    page: Page, portal: RunningPortal
) -> None:
    number = file_general_request(page, portal, PHONE)

    # On through htmx links (each push saves the page it leaves, when a cache is on), then way 2
    # tracking in the same tab: lookup, the phone's requests, one request in full.
    page.get_by_role("link", name="กลับไปหน้า e-Service").click()
    page.get_by_role("link", name="ติดตามสถานะคำร้อง").click()
    page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(PHONE)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(PHONE))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    expect(page.get_by_role("heading", name="คำร้องของฉัน")).to_be_visible()
    page.get_by_role("link", name=re.compile(number)).click()
    expect(page.get_by_role("heading", name=f"คำร้องเลขที่ {number}")).to_be_visible()

    # The back button still works, page by page, with nothing stuck open.
    page.go_back()
    expect(page.get_by_role("heading", name="คำร้องของฉัน")).to_be_visible()
    page.go_forward()
    expect(page.get_by_role("heading", name=f"คำร้องเลขที่ {number}")).to_be_visible()
    page.go_back()
    page.go_back()
    page.wait_for_load_state()
    dialog_stuck = page.evaluate(
        "(() => { const d = document.getElementById('step-dialog');"
        " return !!d && d.open && !d.matches(':modal'); })()"
    )
    assert not dialog_stuck

    stored = json.loads(page.evaluate(STORAGE))
    assert stored["session"].get("htmx-history-cache"), "no snapshot at all: nothing was tested"
    dump = json.dumps(stored, ensure_ascii=False)
    found = [text for text in personal_strings(number) if text in dump]
    assert found == [], f"personal data in web storage: {found}"
