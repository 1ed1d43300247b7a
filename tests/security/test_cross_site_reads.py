"""Issue 13, point 10: another site cannot make a signed-in officer's browser read personal
data in their name.

Before, a link, an ``<img>`` or an auto-submitted GET form on any site (or in an e-mail or a
LINE chat) opened ``/staff/requests/<number>`` (an audited view of a citizen's personal data,
``view_request`` in the officer's name) or ``/staff/export.csv`` (every citizen's name and
phone, audited as the officer's export): the session cookie is ``SameSite=Lax``, which
browsers send on a top-level GET from another site.

Now the request page takes only navigations the browser marks ``Sec-Fetch-Site: same-origin``
(inside the portal) or ``none`` (a typed address, a bookmark); others get a Thai 403 page with
the same address as a link, one click from inside the portal. The CSV export is a POST with
the CSRF token, which no other site can read. The tests send the headers browsers send.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.settings import Settings
from tests.conftest import csrf_token, html
from tests.security.figures import FIGURES
from tests.security.helpers import phone
from tests.staff.helpers import Clock, RunDb, audit_rows, file_direct, make_staff, sign_in

Browser = TestClient[Litestar]


def navigation(site: str | None, dest: str = "document") -> dict[str, str]:
    """The fetch metadata a browser sends for a top-level navigation (or an image)."""
    if site is None:  # a browser too old to send any
        return {}
    mode = "navigate" if dest == "document" else "no-cors"
    return {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": mode, "Sec-Fetch-Dest": dest}


@pytest.fixture
def officer(client: Browser, run_db: RunDb, settings: Settings, clock: Clock) -> Browser:
    return sign_in(client, make_staff(run_db, settings, "somchai"), clock)


@pytest.fixture
def number(run_db: RunDb) -> str:
    return file_direct(run_db, phone(600)[1]).number


@pytest.mark.parametrize(
    ("site", "dest"),
    [
        ("cross-site", "document"),  # a link or a GET form on another site, a chat app
        ("cross-site", "image"),  # <img src=...> on another site
        ("same-site", "document"),  # a sibling host under the office's domain
        ("cross-site", "iframe"),
    ],
)
def test_a_request_page_opened_from_another_site_is_not_shown_nor_audited(
    officer: Browser, run_db: RunDb, number: str, site: str, dest: str
) -> None:
    path = f"/staff/requests/{number}"
    response = officer.get(path, headers=navigation(site, dest), follow_redirects=False)
    FIGURES.add("cross_site_reads_refused", 1)
    assert response.status_code == 403
    page = html(response)
    assert page.select_one("[data-cross-site] h1").get_text(strip=True) == "เปิดจากลิงก์ภายนอก"
    # One more click from inside the portal gets there: the same address, relative.
    assert page.select_one("a[data-continue]")["href"] == path
    assert phone(600)[0][-4:] not in response.text and "สมศรี" not in response.text
    assert audit_rows(run_db, "view_request") == []


@pytest.mark.parametrize("site", ["same-origin", "none", None])
def test_the_officer_s_own_navigation_opens_it(
    officer: Browser, run_db: RunDb, number: str, site: str | None
) -> None:
    """Inside the portal, a typed address or bookmark, and browsers that send no fetch
    metadata (older than Chrome 76, Firefox 90, Safari 16.4: let through, documented)."""
    response = officer.get(f"/staff/requests/{number}", headers=navigation(site))
    assert response.status_code == 200
    assert [row["number"] for row in audit_rows(run_db, "view_request")] == [number]


def test_the_continue_link_opens_it_with_a_query_kept(
    officer: Browser, run_db: RunDb, number: str
) -> None:
    path = f"/staff/requests/{number}?done=note"
    refused = officer.get(path, headers=navigation("cross-site"))
    link = html(refused).select_one("a[data-continue]")["href"]
    assert link == path
    assert officer.get(link, headers=navigation("same-origin")).status_code == 200


def test_another_site_cannot_start_the_csv_export(
    officer: Browser, run_db: RunDb, number: str
) -> None:
    """A link or an image: the export is no longer a GET. A form on another site posting to
    it: no CSRF token (the other site cannot read one), so refused. Nothing audited."""
    assert officer.get("/staff/export.csv", headers=navigation("cross-site")).status_code == 405
    assert officer.get("/staff/export.csv", headers=navigation("none")).status_code == 405
    forged: Any = officer.post(
        "/staff/export.csv",
        data={"status": "received"},
        headers=navigation("cross-site"),
        follow_redirects=False,
    )
    FIGURES.add("cross_site_reads_refused", 3)
    assert forged.status_code == 403
    assert number not in forged.text
    assert audit_rows(run_db, "export_csv") == []

    # The inbox's own button: a POST with the token, from the same origin.
    token = csrf_token(officer, "/staff")
    exported = officer.post(
        "/staff/export.csv",
        data={"_csrf_token": token, "status": "received"},
        headers=navigation("same-origin"),
    )
    assert exported.status_code == 200 and number in exported.text
    # The charset named once (it was "text/csv; charset=utf-8; charset=utf-8").
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert len(audit_rows(run_db, "export_csv")) == 1


def test_the_staff_session_cookie_is_same_site_lax(
    client: Browser, run_db: RunDb, settings: Settings, clock: Clock
) -> None:
    """Why the POSTs are safe in every browser: Lax keeps the cookie off cross-site POSTs,
    images and frames; only top-level GETs carry it, and those are handled above."""
    from tests.staff.helpers import post_sign_in

    staff = make_staff(run_db, settings, "somying")
    response = post_sign_in(client, staff.username, staff.password, staff.next_code(clock))
    cookies = [c for c in response.headers.get_list("set-cookie") if "portal_session" in c]
    assert cookies and all("samesite=lax" in c.lower() for c in cookies)
