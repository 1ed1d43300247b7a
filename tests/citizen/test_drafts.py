"""Issue 17: nothing typed is lost. A draft is kept on the server for this verification,
phone and browser; a reload restores it; nobody else's form does."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.catalogue.fields import FormField
from portal.citizen.drafts import DRAFT_MAX_BYTES, draft_answers, load_draft
from portal.cli.maintenance import clean_unsent_forms
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.tables.citizen_request import CitizenRequest
from portal.tables.form_draft import FormDraft
from portal.tables.office import DEFAULT_OFFICE_ID
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, submit_form, verify_phone
from tests.conftest import csrf_token, html

PHONE = "0800000020"
E164 = "+66800000020"
FORM = "/e-service/general-request/form"
DRAFT = "/e-service/general-request/form/draft"
HALF_TYPED = {
    "first_name": "สมศรี",
    "citizen_id": "1234567890121",
    "details": "ท่อระบายน้ำหน้าบ้านอุดตัน\nน้ำท่วมถนนทุกครั้งที่ฝนตก",
}


@pytest.fixture(autouse=True)
def _no_drafts(database: str, run_db: Any) -> None:
    """tests/conftest.py empties other tables between tests; drafts are emptied here."""
    run_db(lambda: FormDraft.delete(force=True))


def _open_form(client: TestClient[Litestar]) -> tuple[str, str]:
    """(form key, CSRF token) of a freshly loaded form."""
    page = html(client.get(FORM))
    key = str(page.select_one("input[name=submission_key]")["value"])
    token = str(page.select_one("input[name=_csrf_token]")["value"])
    return key, token


def _save(client: TestClient[Litestar], key: str, token: str, answers: dict[str, str]) -> Any:
    return client.post(
        DRAFT,
        data={**answers, "submission_key": key, "_csrf_token": token},
        headers={"HX-Request": "true"},
    )


def _drafts(run_db: Any) -> list[dict[str, Any]]:
    return list(run_db(lambda: FormDraft.select()))


def test_reload_mid_form_keeps_the_text(client: TestClient[Litestar], run_db: Any) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key, token = _open_form(client)
    saved = _save(client, key, token, HALF_TYPED)
    assert saved.status_code == 204
    assert saved.content == b""
    page = html(client.get(FORM))  # the reload
    assert page.select_one("[data-notice=draft_restored]") is not None
    assert page.select_one("#f-first_name")["value"] == "สมศรี"
    assert page.select_one("#f-details").get_text() == HALF_TYPED["details"]
    # Half a form is no error: nothing is marked wrong.
    assert page.select_one(".error-summary") is None
    # A citizen ID is never kept in a draft (typed again in a moment, never stored in clear).
    assert page.select_one("#f-citizen_id")["value"] == ""
    stored = json.loads(_drafts(run_db)[0]["answers"])
    assert "citizen_id" not in stored
    assert "1234567890121" not in _drafts(run_db)[0]["answers"]


def test_a_form_with_no_draft_says_nothing_and_counts_the_whole_limit(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    page = html(client.get(FORM))
    assert page.select_one("[data-notice=draft_restored]") is None
    textarea = page.select_one("#f-details")
    counter = page.select_one("[data-char-count=f-details]")
    assert counter["aria-live"] == "polite"
    assert counter.get_text() == f"เหลือ {textarea['maxlength']} ตัวอักษร"
    assert counter["data-msg-left"] == "เหลือ {n} ตัวอักษร"


def test_the_counter_starts_from_what_the_draft_holds(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key, token = _open_form(client)
    _save(client, key, token, {"details": "ก" * 100})
    page = html(client.get(FORM))
    limit = int(page.select_one("#f-details")["maxlength"])
    assert page.select_one("#f-details-count").get_text() == f"เหลือ {limit - 100} ตัวอักษร"


def test_the_form_posts_its_draft_without_files_or_swapping(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    saver = html(client.get(FORM)).select_one("form [data-draft]")
    assert saver["hx-post"] == DRAFT
    assert "input delay:" in saver["hx-trigger"] and "change" in saver["hx-trigger"]
    assert saver["hx-include"] == "closest form"
    assert saver["hx-swap"] == "none"
    assert saver["hx-encoding"] == "application/x-www-form-urlencoded"
    assert saver["hx-disabled-elt"] == "unset"  # the send button stays usable while saving


def test_a_later_draft_replaces_the_earlier_one(client: TestClient[Litestar], run_db: Any) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key, token = _open_form(client)
    _save(client, key, token, {"subject": "เรื่องแรก"})
    key, token = _open_form(client)  # a reload issues a new key under the same verification
    _save(client, key, token, {"subject": "เรื่องที่แก้แล้ว"})
    assert len(_drafts(run_db)) == 1
    assert html(client.get(FORM)).select_one("#f-subject")["value"] == "เรื่องที่แก้แล้ว"


def test_another_browser_with_the_same_phone_never_sees_the_draft(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key, token = _open_form(client)
    _save(client, key, token, HALF_TYPED)
    other = new_browser()
    verify_phone(other, run_db, PHONE, E164)
    page = html(other.get(FORM))
    assert page.select_one("[data-notice=draft_restored]") is None
    assert page.select_one("#f-first_name")["value"] == ""
    # Nor can it write into this browser's draft with the copied key.
    other_token = str(page.select_one("input[name=_csrf_token]")["value"])
    assert _save(other, key, other_token, {"first_name": "ผู้บุกรุก"}).status_code == 404
    assert html(client.get(FORM)).select_one("#f-first_name")["value"] == "สมศรี"


def test_another_phone_garbage_and_no_verification_get_the_same_404(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key, token = _open_form(client)
    other = new_browser()
    verify_phone(other, run_db, "0800000021", "+66800000021")
    other_token = csrf_token(other, FORM)
    assert _save(other, key, other_token, HALF_TYPED).status_code == 404
    for garbage in ("", "x" * 63, key[:-1] + ("0" if key[-1] != "0" else "1"), "1.2.3.4"):
        response = _save(client, garbage, token, HALF_TYPED)
        assert response.status_code == 404
    stranger = new_browser()
    stranger_token = csrf_token(stranger, "/e-service")
    assert _save(stranger, key, stranger_token, HALF_TYPED).status_code == 404
    unknown = client.post(
        "/e-service/no-such-service/form/draft",
        data={"submission_key": key, "_csrf_token": token},
    )
    assert unknown.status_code == 404
    assert "ไม่พบ" in unknown.text or "ไม่" in unknown.text
    assert _drafts(run_db) == []


def test_a_draft_needs_the_csrf_token(client: TestClient[Litestar], run_db: Any) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key, _ = _open_form(client)
    assert client.post(DRAFT, data={"submission_key": key, **HALF_TYPED}).status_code == 403
    assert _drafts(run_db) == []


def test_an_oversized_draft_is_refused_413_in_thai(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key, token = _open_form(client)
    response = _save(client, key, token, {"details": "ก" * DRAFT_MAX_BYTES})
    assert response.status_code == 413
    assert "ใหญ่" in response.text or "ยาว" in response.text or "เกิน" in response.text
    assert _drafts(run_db) == []


def test_filing_deletes_the_draft_and_a_consumed_verification_keeps_none(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key, token = _open_form(client)
    _save(client, key, token, HALF_TYPED)
    assert len(_drafts(run_db)) == 1
    assert submit_form(client, GENERAL_REQUEST_ANSWERS, submission_key=key).status_code == 303
    assert _drafts(run_db) == []
    # A late save from the sent form (a timer that fired after sending) keeps nothing.
    assert _save(client, key, token, HALF_TYPED).status_code == 404
    assert _drafts(run_db) == []
    assert run_db(lambda: CitizenRequest.count()) == 1


def test_a_form_posted_with_errors_keeps_its_words_without_javascript(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    response = submit_form(client, {**GENERAL_REQUEST_ANSWERS, "first_name": ""})
    assert response.status_code == 422
    page = html(response)
    assert page.select_one("#f-details").get_text() == GENERAL_REQUEST_ANSWERS["details"]
    assert page.select_one("#f-subject")["value"] == GENERAL_REQUEST_ANSWERS["subject"]
    # ...and kept as a draft, so a reload after the mistake (no JavaScript needed) has them.
    again = html(client.get(FORM))
    assert again.select_one("[data-notice=draft_restored]") is not None
    assert again.select_one("#f-details").get_text() == GENERAL_REQUEST_ANSWERS["details"]
    assert again.select_one("#f-citizen_id")["value"] == ""


def test_drafts_older_than_a_day_go_with_the_hourly_clean_up(
    client: TestClient[Litestar], run_db: Any, tmp_path: Any
) -> None:
    from portal.attachments.storage import LocalDiskStore

    verify_phone(client, run_db, PHONE, E164)
    key, token = _open_form(client)
    _save(client, key, token, HALF_TYPED)
    store = LocalDiskStore(tmp_path)
    now = utcnow()
    run_db(lambda: clean_unsent_forms(store, now=now + timedelta(hours=23)))
    assert len(_drafts(run_db)) == 1
    run_db(lambda: clean_unsent_forms(store, now=now + timedelta(hours=24, minutes=1)))
    assert _drafts(run_db) == []


def test_a_draft_older_than_a_day_is_not_restored(
    client: TestClient[Litestar], run_db: Any
) -> None:
    verify_phone(client, run_db, PHONE, E164)
    key, token = _open_form(client)
    _save(client, key, token, HALF_TYPED)
    row = _drafts(run_db)[0]
    later = utcnow() + timedelta(hours=25)
    restored = run_db(
        lambda: load_draft(
            office=OfficeRef(id=DEFAULT_OFFICE_ID, slug="default", name=""),
            verification=row["verification"],
            service=row["service"],
            phone=E164,
            browser="any",
            now=later,
        )
    )
    assert restored == {}


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ({"note": "ก" * 50}, {"note": "ก" * 10}),
        ({"note": "", "place_village": "หมู่ 3", "evil": "x"}, {"place_village": "หมู่ 3"}),
        ({"cid": "1234567890121", "note": "a\x00b"}, {"note": "ab"}),
    ],
)
def test_draft_answers_keep_known_inputs_cut_to_their_limits(
    raw: dict[str, str], kept: dict[str, str]
) -> None:
    fields = [
        FormField(name="note", label="หมายเหตุ", kind="textarea", max_length=10),
        FormField(name="cid", label="เลขบัตร", kind="citizen_id"),
        FormField(name="place", label="สถานที่", kind="location"),
        FormField(name="photos", label="รูป", kind="attachments"),
    ]
    assert draft_answers(fields, raw) == kept
