"""Issue 16 on the citizen side: each office's own home and contact pages and emblem, filing at
an office writes that office everywhere, and nothing of office B is reached at office A (the
same 404 as a thing that does not exist).

Office B is reached at its development prefix ``/o/b/``, office A (the default) without one:
one browser, one session, so only the office differs.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.attachments.config import AttachmentConfig
from portal.attachments.storage import new_key
from portal.catalogue.service import get_active_service
from portal.citizen.service import FiledRequest, FilingLimited, file_request
from portal.kernel.offices import touch
from portal.settings import Settings
from portal.sms.outbox import SmsConfig
from portal.tables.citizen_request import CitizenRequest
from portal.tables.form_draft import FormDraft
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.request_event import RequestEvent
from portal.tables.service import Service
from portal.tables.sms_message import SmsMessage
from portal.web.offices import offices_of
from tests.citizen.helpers import (
    GENERAL_REQUEST_ANSWERS,
    new_submission_key,
    submit_form,
    verify_phone,
)
from tests.conftest import RunDb, csrf_token, filing_vault, html, without_reference
from tests.offices import create_office, office_ref

B = "/o/b"
B_NAME = "เทศบาลตำบลบางบีทดสอบ"
B_NAME_EN = "Bang Bee Test Municipality"
B_PHONE = "02-111-2222"
B_LINE = "https://lin.ee/BangBee"
B_SLUG = "b-only"
PHONE, E164 = "0800000061", "+66800000061"


@pytest.fixture
def office_b(app: Litestar, run_db: RunDb) -> int:
    """Office B with its own name, contact, sender and a service only it has."""

    async def make() -> int:
        office_id = await create_office(
            "b",
            name=B_NAME,
            name_en=B_NAME_EN,
            phone=B_PHONE,
            line_url=B_LINE,
            hours="จันทร์–เสาร์ 08:00–16:00 น.",
            sms_sender="BANGBEE",
        )
        await Service.update({Service.slug: B_SLUG}).where(
            Service.office == office_id, Service.slug == "complaint"
        )
        return office_id

    office_id: int = run_db(make)
    offices_of(app).forget()
    return office_id


def _file(client: TestClient[Litestar], run_db: RunDb, prefix: str) -> str:
    verify_phone(client, run_db, PHONE, E164, prefix=prefix)
    response = submit_form(client, GENERAL_REQUEST_ANSWERS, prefix=prefix)
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    assert location.startswith(f"{prefix}/e-service/requests/")
    return location.rsplit("/", 1)[1]


def _page(response: Any, path: str) -> str:
    """An error page less its reference number and the path asked for (its language link
    carries it): two answers a visitor must not tell apart."""
    return without_reference(response.text).replace(path, "PATH")


def test_home_and_contact_pages_are_each_offices_own(
    client: TestClient[Litestar], office_b: int
) -> None:
    home_b = html(client.get(f"{B}/"))
    assert home_b.select_one("[data-office-name]").get_text(strip=True) == B_NAME
    assert home_b.select_one("a[data-office-phone]")["href"] == "tel:021112222"
    assert home_b.select_one("a[data-office-line]")["href"] == B_LINE
    assert B_NAME in home_b.select_one("title").get_text()
    # The manual's "Highlights" and its button, leading to B's own menu.
    assert "(Highlights)" in home_b.select_one("#highlights-title").get_text()
    assert home_b.select_one("a.button[href='/o/b/e-service']") is not None
    assert home_b.select_one("[data-office-emblem]") is None  # B has none yet

    home_a = html(client.get("/"))
    assert home_a.select_one("[data-office-name]").get_text(strip=True) != B_NAME
    assert B_NAME not in home_a.get_text() and B_PHONE not in home_a.get_text()
    assert home_a.select_one("a[data-office-phone]") is None  # A's settings set no phone

    contact_b = html(client.get(f"{B}/contact"))
    assert contact_b.select_one("[data-contact-office]").get_text(strip=True) == B_NAME
    assert contact_b.select_one("a[data-contact-phone]")["href"] == "tel:021112222"
    assert contact_b.select_one("a[data-contact-line]")["href"] == B_LINE
    hours = contact_b.select_one("[data-contact-hours]").get_text(strip=True)
    assert hours == "จันทร์–เสาร์ 08:00–16:00 น."
    contact_a = html(client.get("/contact"))
    assert contact_a.select_one("a[data-contact-line]") is None
    assert B_NAME not in contact_a.get_text()


def test_english_pages_show_the_english_name(client: TestClient[Litestar], office_b: int) -> None:
    client.cookies.set("portal_lang", "en")
    home = html(client.get(f"{B}/"))
    assert home.select_one("[data-office-name]").get_text(strip=True) == B_NAME_EN
    assert B_NAME_EN in home.select_one("title").get_text()


def test_the_emblem_is_served_for_its_office_only(
    client: TestClient[Litestar], settings: Settings, run_db: RunDb, app: Litestar, office_b: int
) -> None:
    assert client.get(f"{B}/office/emblem").status_code == 404  # none set
    key = new_key("jpg")
    AttachmentConfig.from_settings(settings).store.put(key, b"\xff\xd8\xff emblem")

    async def set_emblem() -> None:
        from portal.tables.office import Office

        await Office.update({Office.emblem_key: key}).where(Office.id == office_b)
        await touch(office_b)  # as the platform page does: every worker reloads

    run_db(set_emblem)
    offices_of(app).forget()
    response = client.get(f"{B}/office/emblem")
    assert response.status_code == 200
    assert response.content == b"\xff\xd8\xff emblem"
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert response.headers["x-content-type-options"] == "nosniff"
    image = html(client.get(f"{B}/")).select_one("img[data-office-emblem]")
    assert image is not None and image["src"].startswith("/o/b/office/emblem?v=")
    # Office A has no emblem: its address answers 404 and its home page shows none.
    assert client.get("/office/emblem").status_code == 404
    assert html(client.get("/")).select_one("[data-office-emblem]") is None


def test_filing_at_b_writes_office_b_everywhere(
    client: TestClient[Litestar], run_db: RunDb, office_b: int
) -> None:
    verify_phone(client, run_db, PHONE, E164, prefix=B)
    form = html(client.get(f"{B}/e-service/general-request/form"))
    key = str(form.select_one("input[name=submission_key]")["value"])
    token = csrf_token(client, f"{B}/e-service/general-request/form")
    draft = {"first_name": "สมศรี", "submission_key": key, "_csrf_token": token}
    assert client.post(f"{B}/e-service/general-request/form/draft", data=draft).status_code == 204
    drafts = run_db(lambda: FormDraft.select(FormDraft.office))
    assert [row["office"] for row in drafts] == [office_b]

    response = submit_form(client, GENERAL_REQUEST_ANSWERS, prefix=B)
    assert response.status_code == 303, response.text
    number = response.headers["location"].rsplit("/", 1)[1]

    async def written() -> tuple[Any, list[Any], list[Any]]:
        request = await CitizenRequest.select().where(CitizenRequest.number == number).first()
        events = await RequestEvent.select(RequestEvent.office).where(
            RequestEvent.request == request["id"]
        )
        sms = await SmsMessage.select().where(SmsMessage.request == request["id"])
        return request, events, sms

    request, events, sms = run_db(written)
    assert request["office"] == office_b
    service = run_db(lambda: Service.select(Service.office).where(Service.id == request["service"]))
    assert service[0]["office"] == office_b
    assert [event["office"] for event in events] == [office_b]
    assert [(row["office"], row["sender"], row["purpose"]) for row in sms] == [
        (office_b, "BANGBEE", "receipt")
    ]
    # The link in the SMS starts at B's own address.
    link = f"https://eservice.example.go.th/o/b/t/{request['tracking_token']}"
    assert link in sms[0]["text"]
    assert run_db(lambda: FormDraft.count()) == 0  # filing took the draft with it
    success = client.get(f"{B}/e-service/requests/{number}")
    assert success.status_code == 200 and number in success.text
    assert B_NAME in html(success).select_one("title").get_text()


def test_b_s_things_are_missing_at_a(
    client: TestClient[Litestar], run_db: RunDb, office_b: int
) -> None:
    """The same browser, the same session: what it filed at B does not exist at A."""
    number = _file(client, run_db, B)
    row = run_db(
        lambda: (
            CitizenRequest.select(CitizenRequest.tracking_token)
            .where(CitizenRequest.number == number)
            .first()
        )
    )
    token = row["tracking_token"]
    other = "x" * len(token)
    pairs = [
        (f"/e-service/requests/{number}", "/e-service/requests/69-999999"),
        (f"/t/{token}/receipt", f"/t/{other}/receipt"),
        (f"/t/{token}/receipt.pdf", f"/t/{other}/receipt.pdf"),
        (f"/e-service/{B_SLUG}", "/e-service/no-such-service"),
        (f"/e-service/{B_SLUG}/phone", "/e-service/no-such-service/phone"),
        (f"/e-service/{B_SLUG}/form", "/e-service/no-such-service/form"),
    ]
    for theirs, missing in pairs:
        at_a, absent = client.get(theirs), client.get(missing)
        assert at_a.status_code == absent.status_code == 404, theirs
        assert _page(at_a, theirs) == _page(absent, missing), theirs
    menu = html(client.get("/e-service"))
    assert menu.select_one(f"a[href*='{B_SLUG}']") is None
    # ... while at B they are there.
    assert client.get(f"{B}/t/{token}/receipt").status_code == 200
    receipt = html(client.get(f"{B}/t/{token}/receipt"))
    assert receipt.select_one("[data-receipt-office]").get_text(strip=True) == B_NAME
    assert client.get(f"{B}/e-service/{B_SLUG}/phone").status_code == 200
    assert html(client.get(f"{B}/e-service")).select_one(f"a[href*='{B_SLUG}']") is not None


def test_a_request_of_a_is_missing_at_b(
    client: TestClient[Litestar], run_db: RunDb, office_b: int
) -> None:
    number = _file(client, run_db, "")
    assert client.get(f"/e-service/requests/{number}").status_code == 200
    at_b = client.get(f"{B}/e-service/requests/{number}")
    absent = client.get(f"{B}/e-service/requests/69-999999")
    assert at_b.status_code == absent.status_code == 404
    assert _page(at_b, f"/e-service/requests/{number}") == _page(
        absent, "/e-service/requests/69-999999"
    )
    rows = run_db(lambda: CitizenRequest.select(CitizenRequest.office))
    assert [row["office"] for row in rows] == [DEFAULT_OFFICE_ID]
    sms = run_db(lambda: SmsMessage.select(SmsMessage.office, SmsMessage.text))
    assert {row["office"] for row in sms} == {DEFAULT_OFFICE_ID}
    assert not any("/o/b/" in row["text"] for row in sms)


def test_numbers_and_the_daily_limit_are_per_office(
    run_db: RunDb, settings: Settings, office_b: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One number may be used once per office (B may repeat A's), and a phone's filings at A
    do not count toward its limit at B."""
    monkeypatch.setattr("portal.citizen.service.new_request_number", lambda now: "69-000001")
    sms = SmsConfig.from_settings(settings)

    async def file_at(office_id: int) -> FiledRequest:
        office = await office_ref(office_id)
        service = await get_active_service("general-request", office=office)
        assert service is not None
        return await file_request(
            service=service,
            phone=E164,
            answers=GENERAL_REQUEST_ANSWERS,
            submission_key=new_submission_key(),
            sms=sms.for_office(office),
            office=office,
            daily_limit=1,
            vault=filing_vault(),
        )

    at_a = run_db(lambda: file_at(DEFAULT_OFFICE_ID))
    at_b = run_db(lambda: file_at(office_b))
    assert at_a.number == at_b.number == "69-000001" and at_a.id != at_b.id
    with pytest.raises(FilingLimited):
        run_db(lambda: file_at(office_b))
    monkeypatch.setattr("portal.citizen.service.new_request_number", lambda now: "69-000002")
    with pytest.raises(FilingLimited):
        run_db(lambda: file_at(DEFAULT_OFFICE_ID))


def test_a_form_key_of_b_works_at_b_only(
    client: TestClient[Litestar], run_db: RunDb, office_b: int
) -> None:
    """The phone verified at B is not verified at A: B's form key keeps no draft at A, and
    A's form asks for the phone again."""
    verify_phone(client, run_db, PHONE, E164, prefix=B)
    form = html(client.get(f"{B}/e-service/general-request/form"))
    key = str(form.select_one("input[name=submission_key]")["value"])
    token = csrf_token(client, "/e-service/general-request/phone")
    draft = {"first_name": "สมศรี", "submission_key": key, "_csrf_token": token}
    assert client.post("/e-service/general-request/form/draft", data=draft).status_code == 404
    assert run_db(lambda: FormDraft.count()) == 0
    at_a = client.get("/e-service/general-request/form", follow_redirects=False)
    assert at_a.status_code == 303
    assert at_a.headers["location"].startswith("/e-service/general-request/phone")
    assert client.get(f"/e-service/uploads/1/full?key={key}").status_code == 404
