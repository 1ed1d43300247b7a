from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from portal.cli import main
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.sms.outbox import SmsConfig, enqueue
from portal.tables.sms_message import SmsPurpose
from tests.conftest import TEST_SECRET, fresh
from tests.staff.helpers import default_office

SMS = SmsConfig(sender="OSS-LOCAL", backend="outbox")


def _send(*messages: tuple[str, str, SmsPurpose], office: OfficeRef | None = None) -> None:
    at = office or default_office()

    async def write() -> None:
        start = utcnow() - timedelta(minutes=len(messages))
        for n, (phone, text, purpose) in enumerate(messages):
            await enqueue(
                SMS.for_office(at),
                office=at,
                to_phone=phone,
                text=text,
                purpose=purpose,
                now=start + timedelta(minutes=n),
            )

    fresh(write)


def _outbox_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["sms", "outbox", "--json", *args]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


@pytest.mark.usefixtures("portal_env")
def test_outbox_json_lists_messages_to_one_phone_newest_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _send(
        ("+66800000001", "รหัสยืนยัน 111111", SmsPurpose.otp),
        ("+66800000002", "รหัสยืนยัน 222222", SmsPurpose.otp),
        ("+66800000001", "ได้รับคำร้องเลขที่ 69-000001 แล้ว", SmsPurpose.receipt),
    )
    rows = _outbox_json(capsys, "--to", "0800000001")
    assert [row["text"] for row in rows] == [
        "ได้รับคำร้องเลขที่ 69-000001 แล้ว",
        "รหัสยืนยัน 111111",
    ]
    assert {row["to_phone"] for row in rows} == {"+66800000001"}
    assert [row["purpose"] for row in rows] == ["receipt", "otp"]
    assert all(row["sender"] == "OSS-LOCAL" for row in rows)
    assert all(row["state"] == "sent" for row in rows)


@pytest.mark.usefixtures("portal_env")
def test_outbox_json_without_a_phone_lists_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _send(
        ("+66800000001", "first", SmsPurpose.otp),
        ("+66800000002", "second", SmsPurpose.otp),
    )
    rows = _outbox_json(capsys)
    assert [row["text"] for row in rows] == ["second", "first"]


@pytest.mark.usefixtures("portal_env")
def test_outbox_json_accepts_any_form_of_the_phone_number(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _send(("+66800000003", "hello", SmsPurpose.otp))
    for typed in ("0800000003", "080-000-0003", "+66800000003"):
        assert [row["text"] for row in _outbox_json(capsys, "--to", typed)] == ["hello"]


@pytest.mark.usefixtures("portal_env")
def test_outbox_json_times_are_iso_8601(capsys: pytest.CaptureFixture[str]) -> None:
    _send(("+66800000001", "hello", SmsPurpose.otp))
    (row,) = _outbox_json(capsys, "--to", "0800000001")
    assert isinstance(row["created_at"], str)
    created = datetime.fromisoformat(row["created_at"])
    assert abs(created - utcnow()) < timedelta(minutes=5)


@pytest.mark.usefixtures("portal_env")
def test_outbox_json_for_a_phone_with_no_messages_is_an_empty_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _send(("+66800000001", "hello", SmsPurpose.otp))
    assert _outbox_json(capsys, "--to", "0800000099") == []


@pytest.mark.usefixtures("portal_env")
def test_outbox_as_text_shows_each_message(capsys: pytest.CaptureFixture[str]) -> None:
    _send(("+66800000001", "รหัสยืนยัน 111111", SmsPurpose.otp))
    assert main(["sms", "outbox", "--to", "0800000001"]) == 0
    out = capsys.readouterr().out
    assert "OSS-LOCAL -> +66800000001 [otp]" in out
    assert "รหัสยืนยัน 111111" in out


@pytest.mark.usefixtures("portal_env")
@pytest.mark.parametrize("bad", ["021234567", "+14155550123", "hello"])
def test_outbox_with_a_bad_phone_exits_2_and_says_why(
    capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    assert main(["sms", "outbox", "--json", "--to", bad]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not a Thai mobile number" in captured.err


def test_configuration_error_is_one_line_naming_the_variable_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORTAL_DATABASE_URL", "mysql://portal@db/portal")
    monkeypatch.setenv("PORTAL_SECRET_KEY", TEST_SECRET)
    assert main(["sms", "outbox", "--json"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("configuration error: PORTAL_DATABASE_URL")
    assert err.count("\n") == 1


# portal requests status


STATUS_PHONE = "+66800000040"


def _file_request() -> str:
    """File a general request for STATUS_PHONE; return its number."""
    from portal.catalogue.service import get_active_service
    from portal.citizen.service import file_request
    from tests.citizen.helpers import new_submission_key
    from tests.offices import office_ref

    async def go() -> str:
        office = await office_ref()
        service = await get_active_service("general-request", office=office)
        assert service is not None
        filed = await file_request(
            service=service,
            phone=STATUS_PHONE,
            answers={"first_name": "สมศรี", "subject": "ขอให้ซ่อมท่อระบายน้ำ"},
            submission_key=new_submission_key(),
            sms=SMS.for_office(office),
            office=office,
        )
        return filed.number

    return fresh(go)


def _request_state(number: str) -> tuple[str, list[tuple[str, str, str]], int]:
    """(status, [(event status, actor, note)], status SMS written) for ``number``."""
    from portal.tables.citizen_request import CitizenRequest
    from portal.tables.request_event import RequestEvent
    from portal.tables.sms_message import SmsMessage

    async def read() -> tuple[str, list[tuple[str, str, str]], int]:
        row = await CitizenRequest.select().where(CitizenRequest.number == number).first()
        assert row is not None
        events = (
            await RequestEvent.select()
            .where(RequestEvent.request == row["id"])
            .order_by(RequestEvent.id)
        )
        sent = await SmsMessage.count().where(SmsMessage.purpose == SmsPurpose.status)
        return (
            row["status"],
            [(e["status"], e["actor"], e["public_note"]) for e in events],
            sent,
        )

    return fresh(read)


@pytest.mark.usefixtures("portal_env")
def test_requests_status_changes_the_status_and_says_from_what_to_what(
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _file_request()
    capsys.readouterr()
    note = "เจ้าหน้าที่รับเรื่องแล้ว"
    assert main(["requests", "status", number, "in_progress", "--note", note]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"{number}: received -> in_progress"
    status, events, sent = _request_state(number)
    assert status == "in_progress"
    assert events[-1] == ("in_progress", "portal-cli", note)
    assert sent == 1


@pytest.mark.usefixtures("portal_env")
def test_requests_status_records_the_actor_given(capsys: pytest.CaptureFixture[str]) -> None:
    number = _file_request()
    assert main(["requests", "status", number, "rejected", "--actor", "staff:somchai"]) == 0
    assert capsys.readouterr().out.strip() == f"{number}: received -> rejected"
    assert _request_state(number)[1][-1] == ("rejected", "staff:somchai", "")


@pytest.mark.usefixtures("portal_env")
def test_requests_status_sms_goes_to_the_requests_phone_without_the_note(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example.go.th/")
    number = _file_request()
    note = "คุณสมศรี กรุณานำสำเนาบัตรมาที่สำนักงาน"
    assert main(["requests", "status", number, "in_progress", "--note", note]) == 0
    capsys.readouterr()
    rows = _outbox_json(capsys, "--to", STATUS_PHONE)
    status_texts = [row["text"] for row in rows if row["purpose"] == "status"]
    assert len(status_texts) == 1
    text = str(status_texts[0])
    assert number in text
    assert "กำลังดำเนินการ" in text
    assert "สมศรี" not in text
    # The link is built from the configured base URL, not the one the request was filed with.
    links = [word for word in text.split() if word.startswith("https://")]
    assert [link[:-22] for link in links] == ["https://portal.example.go.th/t/"], text


@pytest.mark.usefixtures("portal_env")
def test_requests_status_for_an_unknown_number_exits_2_and_says_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _file_request()
    unknown = "69-000000" if number != "69-000000" else "69-000001"
    capsys.readouterr()
    assert main(["requests", "status", unknown, "in_progress", "--note", "x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown_request" in captured.err
    assert _request_state(number) == ("received", [("received", "citizen", "")], 0)


@pytest.mark.usefixtures("portal_env")
def test_requests_status_refused_transition_exits_2_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _file_request()
    assert main(["requests", "status", number, "in_progress"]) == 0
    capsys.readouterr()
    before = _request_state(number)
    assert main(["requests", "status", number, "received", "--note", "x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not_allowed" in captured.err
    assert _request_state(number) == before


@pytest.mark.usefixtures("portal_env")
@pytest.mark.parametrize("bad", ["done", "IN_PROGRESS", "closed", ""])
def test_requests_status_outside_the_choices_is_an_argparse_error(
    capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    number = _file_request()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["requests", "status", number, bad, "--note", "x"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    assert _request_state(number) == ("received", [("received", "citizen", "")], 0)


@pytest.mark.usefixtures("portal_env")
def test_purge_uses_the_configured_pool_and_prints_a_whole_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import portal.db
    from portal.db_engines import PoolSize

    monkeypatch.setenv("PORTAL_DATABASE_POOL_MAX", "7")
    monkeypatch.setenv("PORTAL_DATABASE_LOCK_TIMEOUT", "3")
    pools: list[PoolSize | None] = []
    configure = portal.db.configure_database

    def recording(url: str, pool_size: PoolSize | None = None) -> object:
        pools.append(pool_size)
        return configure(url, pool_size)

    monkeypatch.setattr(portal.db, "configure_database", recording)
    assert main(["purge", "--dry-run"]) == 0
    (pool,) = pools
    assert pool is not None
    assert (pool.max, pool.lock_timeout_s) == (7, 3)
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("attachments 0, ")
    assert summary.endswith("citizen IDs sealed in older requests 0")


@pytest.mark.usefixtures("portal_env")
def test_outbox_office_lists_that_offices_messages_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.offices import create_office, office_ref

    nongbua = fresh(office_ref(fresh(create_office("nongbua", sms_sender="NONGBUA"))))
    _send(("+66800000001", "default office", SmsPurpose.otp))
    _send(("+66800000001", "nongbua office", SmsPurpose.otp), office=nongbua)
    assert [row["text"] for row in _outbox_json(capsys, "--office", "nongbua")] == [
        "nongbua office"
    ]
    assert [row["text"] for row in _outbox_json(capsys, "--office", "default")] == [
        "default office"
    ]
    assert {row["text"] for row in _outbox_json(capsys)} == {"default office", "nongbua office"}
    assert main(["sms", "outbox", "--office", "nobody"]) == 2


@pytest.mark.usefixtures("portal_env")
def test_requests_status_acts_on_the_number_in_the_office_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Numbers are unique per office: the same number may name a request in each."""
    from portal.tables.citizen_request import CitizenRequest
    from tests.offices import create_office, office_ref
    from tests.staff.helpers import file_direct

    nongbua = fresh(office_ref(fresh(create_office("nongbua"))))
    there = file_direct(None, "+66800000502", office=nongbua)
    here = file_direct(None, "+66800000503")
    assert main(["requests", "status", there.number, "in_progress", "--office", "nongbua"]) == 0
    rows = fresh(CitizenRequest.select(CitizenRequest.office, CitizenRequest.status))
    statuses = {(row["office"], row["status"]) for row in rows}
    assert (nongbua.id, "in_progress") in statuses
    assert (1, "received") in statuses
    assert here.number != there.number  # random numbers; the same one would be 1 in 10^6
    # Without --office: the default office, which has no request of that number.
    assert main(["requests", "status", there.number, "completed"]) == 2
    capsys.readouterr()
    assert main(["requests", "status", there.number, "completed", "--office", "nobody"]) == 2
