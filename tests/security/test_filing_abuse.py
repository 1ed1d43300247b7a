"""One verification, one filing (issue 13, point 1), and two holes of point 10: a renewed form
key keeps the citizen's photos, and a staff phone change takes the tracking link away from the
browser that filed.

Before: every load of the form minted a key valid for 12 hours, and keys collected under one
OTP all filed (60 requests and 60 receipt SMS in about a second). Now the code that passed is
the verification, named (MAC'd) in every form key issued under it and consumed, on the server,
by the one filing it allows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from litestar import Litestar

from portal.casework.phone_change import change_phone
from portal.catalogue.service import get_active_service
from portal.citizen.service import file_request
from portal.db import write_transaction
from portal.sms.outbox import SmsConfig
from portal.tables.attachment import Attachment
from portal.tables.citizen_request import CitizenRequest
from portal.tables.sms_message import SmsMessage
from tests.attachments.helpers import (
    SERVICE,
    file_complaint,
    jpeg_with_gps,
    open_form,
    pending_ids,
    upload,
)
from tests.attachments.helpers import phone as attachment_phone
from tests.citizen.helpers import (
    GENERAL_REQUEST_ANSWERS,
    new_submission_key,
    submit_form,
    verify_phone,
)
from tests.conftest import csrf_token, filing_vault, html
from tests.offices import office_ref
from tests.security.helpers import Browser, RunDb, phone

FORM = "/e-service/general-request/form"
FILER, FILER_E164 = phone(20)


def _form_key(browser: Browser) -> str:
    field = html(browser.get(FORM)).select_one("input[name=submission_key]")
    assert field is not None
    return str(field["value"])


def _requests(run_db: RunDb, e164: str = FILER_E164) -> int:
    return int(run_db(lambda: CitizenRequest.count().where(CitizenRequest.phone == e164)))


def _receipts(run_db: RunDb) -> int:
    return int(run_db(lambda: SmsMessage.count().where(SmsMessage.purpose == "receipt")))


def test_form_keys_collected_under_one_verification_file_one_request(
    client: Browser, run_db: RunDb
) -> None:
    """The attack: load the form 20 times, then send every key. One request, one receipt;
    the other keys file nothing and the citizen's words come back with the reason."""
    verify_phone(client, run_db, FILER, FILER_E164)
    keys = [_form_key(client) for _ in range(20)]
    answers = [
        submit_form(client, {**GENERAL_REQUEST_ANSWERS, "subject": f"เรื่อง {n}"}, submission_key=k)
        for n, k in enumerate(keys)
    ]
    assert answers[0].status_code == 303
    assert [a.status_code for a in answers[1:]] == [409] * 19
    refused = html(answers[1])
    assert refused.select_one("[data-notice=verification_used]") is not None
    assert refused.select_one("#f-subject")["value"] == "เรื่อง 1"
    assert _requests(run_db) == 1
    assert _receipts(run_db) == 1
    # The verification is spent: a new form asks for the phone again.
    again = client.get(FORM, follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/e-service/general-request/phone"
    # A second filing needs a new code, and then files.
    verify_phone(client, run_db, FILER, FILER_E164)
    assert submit_form(client, GENERAL_REQUEST_ANSWERS).status_code == 303
    assert _requests(run_db) == 2


def test_keys_sent_all_at_once_file_one_request(client: Browser, run_db: RunDb) -> None:
    verify_phone(client, run_db, FILER, FILER_E164)
    keys = [_form_key(client) for _ in range(8)]
    token = csrf_token(client, FORM)

    def send(key: str) -> int:
        data = {**GENERAL_REQUEST_ANSWERS, "_csrf_token": token, "submission_key": key}
        return client.post(FORM, data=data, follow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(send, keys))
    assert sorted(statuses) == [303] + [409] * 7
    assert _requests(run_db) == 1
    assert _receipts(run_db) == 1


def test_the_same_key_twice_lands_on_the_same_success_page(client: Browser, run_db: RunDb) -> None:
    """A double click is not an attack: the second press answers with the first request."""
    verify_phone(client, run_db, FILER, FILER_E164)
    key = _form_key(client)
    first = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=key)
    second = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=key)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert client.get(second.headers["location"]).status_code == 200
    assert _requests(run_db) == 1


def test_a_replayed_old_cookie_does_not_file_again(client: Browser, run_db: RunDb) -> None:
    """The session is a client-side cookie: keep a copy from just after the OTP, file, put the
    copy back and try again with a key collected under it. The server knows it is spent."""
    verify_phone(client, run_db, FILER, FILER_E164)
    keys = [_form_key(client) for _ in range(2)]
    saved = dict(client.cookies)
    assert submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=keys[0]).status_code == 303
    client.cookies.clear()
    for name, value in saved.items():
        client.cookies.set(name, value)
    assert client.get(FORM, follow_redirects=False).status_code == 303
    assert submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=keys[1]).status_code == 409
    no_key = submit_form(client, GENERAL_REQUEST_ANSWERS)
    assert no_key.status_code == 303
    assert no_key.headers["location"] == "/e-service/general-request/phone?again=1"
    assert _requests(run_db) == 1


def _seed_filings(run_db: RunDb, count: int, e164: str) -> None:
    """``count`` requests filed by ``e164`` through the service (no browser, no code)."""

    async def seed() -> None:
        office = await office_ref()
        service = await get_active_service("general-request", office=office)
        assert service is not None
        for _ in range(count):
            await file_request(
                service=service,
                phone=e164,
                answers=dict(GENERAL_REQUEST_ANSWERS),
                submission_key=new_submission_key(),
                sms=SmsConfig(sender="OSS-LOCAL", backend="outbox").for_office(office),
                office=office,
                vault=filing_vault(),
            )

    run_db(seed)


def _age_filings(run_db: RunDb, by: timedelta) -> None:
    async def shift() -> None:
        for row in await CitizenRequest.select(CitizenRequest.id, CitizenRequest.created_at):
            await CitizenRequest.update({CitizenRequest.created_at: row["created_at"] - by}).where(
                CitizenRequest.id == row["id"]
            )

    run_db(shift)


def test_a_phone_files_at_most_its_daily_limit_and_keeps_the_words(
    client: Browser, run_db: RunDb, settings: Any
) -> None:
    """The second wall: even with a fresh code for each, one phone files at most
    ``PORTAL_FILINGS_PER_PHONE_DAILY_LIMIT`` (5) requests in 24 hours; the sixth is a Thai 429
    with the honest wait, the citizen's words on screen, and nothing saved."""
    limit = settings.filings_per_phone_day
    assert limit == 5
    _seed_filings(run_db, limit, FILER_E164)
    _age_filings(run_db, timedelta(hours=2))
    verify_phone(client, run_db, FILER, FILER_E164)
    answers = {**GENERAL_REQUEST_ANSWERS, "subject": "เรื่องที่หก"}
    refused = submit_form(client, answers, submission_key=_form_key(client))
    assert refused.status_code == 429
    # The oldest filing was two hours ago: the next is allowed in 22 hours.
    assert 22 * 3600 - 60 <= int(refused.headers["retry-after"]) <= 22 * 3600
    page = html(refused)
    assert "ครบจำนวนที่กำหนดใน 24 ชั่วโมง" in page.select_one("[data-notice]").get_text()
    assert page.select_one("#f-subject")["value"] == "เรื่องที่หก"
    assert _requests(run_db) == limit
    assert _receipts(run_db) == limit
    # The verification was not spent by the refusal: once the window allows, it files.
    _age_filings(run_db, timedelta(hours=23))
    key = str(page.select_one("input[name=submission_key]")["value"])
    assert submit_form(client, answers, submission_key=key).status_code == 303


def test_a_renewed_form_key_keeps_the_citizens_photos(
    app: Litestar, client: Browser, run_db: RunDb
) -> None:
    """The citizen picks a photo, then verifies again in another tab (the browser id turns
    over, so the open form's key no longer vouches). Sending that form renews its key and
    must keep the photo, which then files with the request."""
    national, e164 = attachment_phone(40)
    key = open_form(client, run_db, 40)
    photo_ids = pending_ids(upload(client, key, jpeg_with_gps()))
    assert len(photo_ids) == 1
    verify_phone(client, run_db, national, e164, service=SERVICE)  # the other tab
    renewed = file_complaint(client, key, attachment_ids=photo_ids)
    assert renewed.status_code == 409
    page = html(renewed)
    assert page.select_one("[data-notice=form_key_renewed]") is not None
    new_key = str(page.select_one("input[name=submission_key]")["value"])
    assert new_key != key
    assert pending_ids(renewed) == photo_ids  # the photo is still on the form
    filed = file_complaint(client, new_key, attachment_ids=pending_ids(renewed))
    assert filed.status_code == 303
    number = filed.headers["location"].rsplit("/", 1)[1]
    request_id = run_db(
        lambda: CitizenRequest.select(CitizenRequest.id).where(CitizenRequest.number == number)
    )[0]["id"]
    linked = run_db(
        lambda: Attachment.select(Attachment.id).where(Attachment.request == request_id)
    )
    assert [row["id"] for row in linked] == photo_ids


def test_a_renewed_key_does_not_take_another_phones_photos(
    client: Browser, new_browser: Any, run_db: RunDb
) -> None:
    """Another browser, verified for another phone, sends the victim's key: renewed, but the
    victim's photo stays on the victim's form."""
    victim_key = open_form(client, run_db, 41)
    photo_ids = pending_ids(upload(client, victim_key, jpeg_with_gps()))
    other = new_browser()
    open_form(other, run_db, 42)
    renewed = file_complaint(other, victim_key, attachment_ids=photo_ids)
    assert renewed.status_code == 409
    assert pending_ids(renewed) == []
    rows = run_db(lambda: Attachment.select(Attachment.upload_group, Attachment.phone))
    assert [(r["upload_group"], r["phone"]) for r in rows] == [
        (victim_key, attachment_phone(41)[1])
    ]


def test_after_a_staff_phone_change_the_old_browser_loses_the_tracking_link(
    client: Browser, run_db: RunDb, settings: Any
) -> None:
    verify_phone(client, run_db, FILER, FILER_E164)
    filed = submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=_form_key(client))
    success = filed.headers["location"]
    number = success.rsplit("/", 1)[1]
    before = client.get(success)
    old_token = run_db(
        lambda: CitizenRequest.select(CitizenRequest.tracking_token).where(
            CitizenRequest.number == number
        )
    )[0]["tracking_token"]
    assert old_token in before.text

    async def move() -> None:
        async with write_transaction():
            await change_phone(
                number=number,
                new_phone=phone(21)[1],
                reason="ประชาชนแจ้งเปลี่ยนเบอร์ที่สำนักงาน",
                office=await office_ref(),
                sms=SmsConfig(sender="OSS-LOCAL", backend="outbox"),
            )

    run_db(move)
    new_token = run_db(
        lambda: CitizenRequest.select(CitizenRequest.tracking_token).where(
            CitizenRequest.number == number
        )
    )[0]["tracking_token"]
    assert new_token != old_token
    after = client.get(success)
    assert after.status_code == 404
    assert new_token not in after.text
    assert "xxx-" + phone(21)[0][-4:] not in after.text  # nor the new phone, masked
