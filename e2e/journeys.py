"""Steps shared by the browser journeys."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

from playwright.sync_api import Page, expect

from e2e.conftest import RunningPortal

VALID_CITIZEN_ID = "1234567890121"  # check digit right, obviously not a person


def fill_general_request(page: Page, subject: str = "") -> None:
    page.get_by_label("คำนำหน้า").select_option("นาง")
    page.get_by_label("ชื่อ", exact=True).fill("สมศรี")
    page.get_by_label("นามสกุล").fill("ทดสอบ")
    page.get_by_label("เลขประจำตัวประชาชน").fill(VALID_CITIZEN_ID)
    page.get_by_label("ที่อยู่").fill("99 หมู่ 1 ตำบลตัวอย่าง")
    page.get_by_label("เรื่อง", exact=True).fill(subject or "ขอให้ซ่อมท่อระบายน้ำ")
    page.get_by_label("รายละเอียด").fill("ท่อระบายน้ำหน้าบ้านอุดตัน น้ำท่วมขังเวลาฝนตก")


def file_general_request(
    page: Page, portal: RunningPortal, phone: str, *, home: str = "", subject: str = ""
) -> str:
    """Go from the home page (``home``: another office's, e.g. ``.../o/<slug>/``) to the
    success screen; return the request number."""
    page.goto(home or portal.base_url + "/")
    page.get_by_role("link", name="เข้าสู่ระบบ e-Service").click()
    page.get_by_role("link", name=re.compile("แจ้งคำร้องทั่วไป")).click()
    page.get_by_label("หมายเลขโทรศัพท์มือถือ").fill(phone)
    page.get_by_role("button", name="ส่งรหัสยืนยัน").click()
    page.get_by_label("รหัสยืนยัน", exact=True).fill(portal.latest_code(phone))
    page.get_by_role("button", name="ตรวจสอบรหัสยืนยัน").click()
    fill_general_request(page, subject)
    page.get_by_role("button", name="ส่งคำร้อง").click()
    expect(page.get_by_role("heading", name="ส่งข้อมูลเรียบร้อย ✓")).to_be_visible()
    return page.locator("[data-request-number]").inner_text().strip()


def tracking_link(portal: RunningPortal, phone: str, number: str) -> str:
    receipt = next(
        m for m in portal.outbox(phone) if m["purpose"] == "receipt" and number in m["text"]
    )
    link = re.search(r"https?://\S+", receipt["text"])
    assert link is not None
    return link.group(0)


def change_status(portal: RunningPortal, number: str, status: str, note: str) -> None:
    """What office staff will do in the back office; here through the `portal` command."""
    subprocess.run(
        [sys.executable, "-m", "portal.cli", "requests", "status", number, status, "--note", note],
        env=portal.env,
        check=True,
        capture_output=True,
        timeout=60,
    )


def portal_command(portal: RunningPortal, *args: str) -> str:
    """Run ``portal ...`` against the running portal's database, as an operator would."""
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env=portal.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def create_office(portal: RunningPortal, slug: str, name: str) -> str:
    """`portal office create` without a host name: in development it answers at
    ``/o/<slug>/`` (the default office keeps answering on any host). Returns its home page."""
    portal_command(portal, "office", "create", "--slug", slug, "--name", name)
    home = f"{portal.base_url}/o/{slug}/"
    # A running worker sees a new office within its directory's check interval (1 s).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(home, timeout=5) as answer:  # noqa: S310 (our server)
                if answer.status == 200:
                    return home
        except urllib.error.HTTPError:
            pass  # 404 until the server's directory has seen the new office
        time.sleep(0.2)
    raise AssertionError(f"{home} did not answer within 5 s of `portal office create`")


def office_enrolment_link(portal: RunningPortal, office: str, username: str, role: str) -> str:
    """`portal staff create --office`: the one-time link for an office's new colleague."""
    output = portal_command(
        portal,
        "staff",
        "create",
        "--office",
        office,
        "--username",
        username,
        "--role",
        role,
        "--display-name",
        username,
    )
    return next(line.strip() for line in output.splitlines() if "/staff/enrol/" in line)
