"""An office's emblem: uploaded on the platform page, re-encoded, shown on that office's home
page and served at its own ``/office/emblem`` only; anything that is not a picture is refused
in Thai with a 4xx and the old emblem kept."""

from __future__ import annotations

from litestar import Litestar

from portal.tables.audit_event import AuditEvent
from portal.tables.office import DEFAULT_OFFICE_ID, Office
from tests.attachments.helpers import png
from tests.conftest import RunDb, csrf_token, html
from tests.offices import add_host, create_office
from tests.platform.helpers import Browser, browser_at, reload_offices
from tests.staff.helpers import Clock, Staff, sign_in

NONGBUA = "nongbua.example.go.th"


def _upload(browser: Browser, office_id: int, content: bytes, name: str = "emblem.png") -> object:
    page = f"/platform/offices/{office_id}"
    return browser.post(
        f"{page}/emblem",
        data={"_csrf_token": csrf_token(browser, page)},
        files={"emblem": (name, content, "image/png")},
    )


def _emblem_key(run_db: RunDb, office_id: int) -> str:
    row = run_db(lambda: Office.select(Office.emblem_key).where(Office.id == office_id).first())
    return str(row["emblem_key"])


def test_an_uploaded_emblem_shows_on_its_office_home_page_only(
    app: Litestar, client: Browser, run_db: RunDb, clock: Clock, platform_admin: Staff
) -> None:
    run_db(lambda: add_host(DEFAULT_OFFICE_ID, "testserver.local"))
    office_id: int = run_db(lambda: create_office("nongbua", hosts=(NONGBUA,)))
    reload_offices(app)
    sign_in(client, platform_admin, clock)
    citizen = browser_at(app, client, f"http://{NONGBUA}")
    assert citizen.get("/office/emblem").status_code == 404  # none yet
    assert html(citizen.get("/")).select_one("[data-office-emblem]") is None

    response = _upload(client, office_id, png((400, 400), alpha=True))
    assert response.status_code == 200  # type: ignore[attr-defined]
    key = _emblem_key(run_db, office_id)
    assert key.endswith(".jpg")
    reload_offices(app)
    image = html(citizen.get("/")).select_one("[data-office-emblem]")
    assert image is not None and key[:8] in str(image["src"])
    served = citizen.get("/office/emblem")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.content.startswith(b"\xff\xd8")  # re-encoded, not the PNG that was sent
    # The platform page previews it; the default office has none of its own.
    preview = client.get(f"/platform/offices/{office_id}/emblem")
    assert preview.content == served.content
    assert client.get("/office/emblem").status_code == 404
    audited = run_db(
        lambda: AuditEvent.select(AuditEvent.office).where(
            AuditEvent.action == "office_emblem_changed"
        )
    )
    assert [row["office"] for row in audited] == [office_id]


def test_a_file_that_is_not_a_picture_is_refused_and_the_old_emblem_kept(
    app: Litestar, client: Browser, run_db: RunDb, clock: Clock, platform_admin: Staff
) -> None:
    office_id: int = run_db(lambda: create_office("nongbua"))
    reload_offices(app)
    sign_in(client, platform_admin, clock)
    assert _upload(client, office_id, png()).status_code == 200  # type: ignore[attr-defined]
    kept = _emblem_key(run_db, office_id)
    for content, name in ((b"%PDF-1.4 not an emblem", "x.pdf"), (b"", "empty.png")):
        refused = _upload(client, office_id, content, name)
        assert refused.status_code in (400, 413, 415, 422)  # type: ignore[attr-defined]
        error = html(refused).select_one("[data-emblem-error]")
        assert error is not None and error.get_text().strip()
        assert _emblem_key(run_db, office_id) == kept
    assert client.get(f"/platform/offices/{office_id + 99}/emblem").status_code == 404
