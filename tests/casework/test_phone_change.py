"""Moving a request to the citizen's new phone after the counter checked who they are."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from portal.casework.phone_change import (
    MIN_REASON_LENGTH,
    PhoneChanged,
    PhoneChangeError,
    change_phone,
)
from portal.kernel.tracking_links import token_digest
from portal.settings import Settings
from portal.sms.texts import ucs2_parts
from portal.tables.citizen_request import CitizenRequest
from portal.tables.moved_token import MovedToken
from portal.tables.sms_message import SmsMessage
from portal.tracking.service import request_for_phone
from tests.conftest import fresh
from tests.staff.helpers import BASE_URL, SMS, default_office, file_direct
from tests.tracking.helpers import phone_has_requests

OLD = "+66800000395"
NEW = "+66800000396"
REASON = "ตรวจบัตรประชาชนที่เคาน์เตอร์แล้ว"


def change(
    number: str, new_phone: str = NEW, reason: str = REASON, office_phone: str = ""
) -> PhoneChanged:
    return fresh(
        lambda: change_phone(
            number=number,
            new_phone=new_phone,
            reason=reason,
            office=replace(default_office(), phone=office_phone),
            sms=SMS,
        )
    )


def row(number: str) -> dict[str, Any]:
    found: dict[str, Any] = fresh(
        lambda: CitizenRequest.select().where(CitizenRequest.number == number).first()
    )
    return found


def sms(purpose: str = "phone_changed") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = fresh(
        lambda: SmsMessage.select().where(SmsMessage.purpose == purpose).order_by(SmsMessage.id)
    )
    return rows


def test_the_request_moves_to_the_new_phone_which_is_told_by_sms() -> None:
    filed = file_direct(None, OLD)
    before = row(filed.number)
    changed = change(filed.number)
    assert changed == PhoneChanged(request_id=filed.id, old_phone=OLD, new_phone=NEW)
    after = row(filed.number)
    assert after["phone"] == NEW
    assert after["updated_at"] > before["updated_at"]
    # The old number's holder loses the old link; the new number gets a new one.
    assert after["tracking_token"] != before["tracking_token"]
    assert after["status"] == before["status"]
    (message,) = sms()
    assert message["to_phone"] == NEW
    assert message["request"] == filed.id
    assert message["state"] == "sent"  # the outbox backend's rows are the delivery
    assert filed.number in message["text"]
    assert f"{BASE_URL}/t/{after['tracking_token']}" in message["text"]
    assert "สมศรี" not in message["text"]
    assert REASON not in message["text"]
    # The old phone keeps only its filing receipt, and is told the request moved (below).
    assert [m["to_phone"] for m in sms("receipt")] == [OLD]
    assert [m["to_phone"] for m in sms("phone_moved")] == [OLD]


def test_the_text_without_its_link_fits_one_thai_sms() -> None:
    filed = file_direct(None, OLD)
    change(filed.number)
    (message,) = sms()
    words = [w for w in message["text"].split() if not w.startswith("https://")]
    assert ucs2_parts(" ".join(words)) == 1


def test_tracking_follows_the_new_phone() -> None:
    filed = file_direct(None, OLD)
    change(filed.number)
    assert fresh(lambda: phone_has_requests(NEW)) is True
    assert fresh(lambda: phone_has_requests(OLD)) is False
    assert fresh(lambda: request_for_phone(filed.number, OLD, office=default_office())) is None
    tracked = fresh(lambda: request_for_phone(filed.number, NEW, office=default_office()))
    assert tracked is not None and tracked.number == filed.number


@pytest.mark.parametrize("reason", ["", "    ", "abcd", " ab  "])
def test_a_reason_of_at_least_five_characters_is_required(reason: str) -> None:
    assert len(reason.strip()) < MIN_REASON_LENGTH == 5
    filed = file_direct(None, OLD)
    with pytest.raises(PhoneChangeError) as refused:
        change(filed.number, reason=reason)
    assert refused.value.code == "reason_required"
    assert row(filed.number)["phone"] == OLD
    assert sms() == []


def test_the_same_phone_is_refused() -> None:
    filed = file_direct(None, OLD)
    with pytest.raises(PhoneChangeError) as refused:
        change(filed.number, new_phone=OLD)
    assert refused.value.code == "same_phone"
    assert sms() == []
    assert sms("phone_moved") == []
    assert fresh(lambda: MovedToken.count()) == 0


def test_an_unknown_request_is_refused() -> None:
    filed = file_direct(None, OLD)
    unknown = "69-000000" if filed.number != "69-000000" else "69-000001"
    with pytest.raises(PhoneChangeError) as refused:
        change(unknown)
    assert refused.value.code == "unknown_request"
    assert sms() == []


def test_only_the_named_request_moves() -> None:
    moved = file_direct(None, OLD)
    stays = file_direct(None, OLD)
    change(moved.number)
    assert row(moved.number)["phone"] == NEW
    assert row(stays.number)["phone"] == OLD


def test_the_old_number_is_told_the_request_moved_and_whom_to_call() -> None:
    filed = file_direct(None, OLD)
    change(filed.number, office_phone="021234567")
    (message,) = sms("phone_moved")
    assert message["to_phone"] == OLD
    assert message["request"] == filed.id
    assert message["state"] == "sent"
    text = message["text"]
    assert filed.number in text
    assert "021234567" in text
    assert "เบอร์อื่น" in text
    # Nothing the old number's holder (a lost or passed-on SIM) should learn: no link, no
    # new number, nothing the citizen wrote.
    assert "http" not in text and "/t/" not in text
    for secret in (NEW, NEW.replace("+66", "0"), "0396", "สมศรี", REASON):
        assert secret not in text
    assert ucs2_parts(text) == 1


def test_without_an_office_phone_the_old_number_is_sent_to_the_office() -> None:
    filed = file_direct(None, OLD)
    change(filed.number, office_phone="")
    (message,) = sms("phone_moved")
    assert "สำนักงาน" in message["text"]
    assert ucs2_parts(message["text"]) == 1


def test_the_longest_office_phone_still_fits_one_sms() -> None:
    filed = file_direct(None, OLD)
    change(filed.number, office_phone="+" + "9" * 15)  # PORTAL_OFFICE_PHONE allows 15 digits
    (message,) = sms("phone_moved")
    assert ucs2_parts(message["text"]) == 1


def test_the_configured_contact_phone_is_used_by_default(settings: Settings) -> None:
    from tests.conftest import make_settings

    configured = make_settings(
        settings.data_dir, settings.database_url, PORTAL_OFFICE_PHONE="0 2123 4567"
    )
    # The staff's phone change takes the office phone from the request's office, which for
    # the default office is what PORTAL_OFFICE_PHONE says.
    office = default_office(configured)
    filed = file_direct(None, OLD)
    change(filed.number, office_phone=office.phone)
    (message,) = sms("phone_moved")
    assert "021234567" in message["text"]  # digits only: phones turn it into a call link


def test_the_old_links_are_remembered_by_digest_only() -> None:
    filed = file_direct(None, OLD)
    first = row(filed.number)["tracking_token"]
    change(filed.number)
    second = row(filed.number)["tracking_token"]
    change(filed.number, new_phone=OLD, reason="เปลี่ยนกลับเบอร์เดิม ตรวจบัตรแล้ว")
    kept = fresh(
        lambda: MovedToken.select().where(MovedToken.request == filed.id).order_by(MovedToken.id)
    )
    assert [r["token_hash"] for r in kept] == [token_digest(first), token_digest(second)]
    assert {r["request"] for r in kept} == {filed.id}
    assert first not in str(kept) and second not in str(kept)
    assert [m["to_phone"] for m in sms("phone_moved")] == [OLD, NEW]
