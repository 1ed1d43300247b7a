"""The office directory: fallbacks to the platform's settings, which office a host name gets,
and a change on one process reaching another's cache."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.kernel import offices
from portal.kernel.offices import OfficeDirectory, touch
from portal.settings import Settings
from portal.tables.office import DEFAULT_OFFICE_ID, Office
from tests.conftest import fresh, make_settings
from tests.offices import add_host, create_office


def _settings(tmp_path: Path, database: str) -> Settings:
    return make_settings(
        tmp_path,
        database,
        PORTAL_BASE_URL="https://eservice.example.go.th",
        PORTAL_OFFICE_NAME="เทศบาลตำบลหนองบัว",
        PORTAL_SMS_SENDER="NONGBUA",
        PORTAL_OFFICE_PHONE="02 123 4567",
    )


def test_the_default_office_takes_the_settings_and_others_fill_their_gaps(
    tmp_path: Path, database: str
) -> None:
    settings = _settings(tmp_path, database)

    async def scenario() -> dict[str, offices.OfficeRef | None]:
        plain = await create_office("plain", services=False, sms_sender="")
        hosted = await create_office(
            "hosted", hosts=("eservice.hosted.go.th",), services=False, sms_sender="HOSTED"
        )
        directory = OfficeDirectory(settings)
        return {
            "default": await directory.by_id(DEFAULT_OFFICE_ID),
            "plain": await directory.by_id(plain),
            "hosted": await directory.by_id(hosted),
        }

    found = fresh(scenario)
    default, plain, hosted = found["default"], found["plain"], found["hosted"]
    assert default is not None and plain is not None and hosted is not None
    assert (default.name, default.sms_sender, default.dial) == (
        "เทศบาลตำบลหนองบัว",
        "NONGBUA",
        "021234567",
    )
    assert default.base_url == "https://eservice.example.go.th"
    # No address of its own: its first host name, else the development prefix.
    assert hosted.base_url == "https://eservice.hosted.go.th"
    assert hosted.sms_link_base == hosted.base_url
    assert plain.base_url == "https://eservice.example.go.th/o/plain"
    # Empty values fall back to the platform's settings, set ones win.
    assert (plain.sms_sender, hosted.sms_sender) == ("NONGBUA", "HOSTED")
    assert plain.sms_daily_budget == settings.sms_daily_budget
    assert plain.retention_days == settings.retention_days


def test_a_host_name_picks_its_office_and_the_default_answers_only_while_none_has_one(
    tmp_path: Path, database: str
) -> None:
    settings = _settings(tmp_path, database)

    async def scenario() -> list[int | None]:
        directory = OfficeDirectory(settings)
        seen = []
        seen.append(getattr(await directory.for_host("anything.example"), "id", None))
        other = await create_office("b", hosts=("b.example.test",), services=False)
        directory.forget()
        seen.append(getattr(await directory.for_host("b.example.test"), "id", None))
        seen.append(getattr(await directory.for_host("anything.example"), "id", None))
        await Office.update({Office.active: False}).where(Office.id == other)
        await touch(other)
        directory.forget()
        seen.append(getattr(await directory.for_host("b.example.test"), "id", None))
        return [*seen, other]

    *seen, other = fresh(scenario)
    assert seen == [DEFAULT_OFFICE_ID, other, None, None]


def test_another_process_sees_a_change_within_its_check_interval(
    tmp_path: Path, database: str
) -> None:
    settings = _settings(tmp_path, database)

    async def scenario() -> tuple[str | None, str | None, str | None]:
        office_id = await create_office("c", services=False, sms_sender="")
        reader = OfficeDirectory(settings)  # another worker's cache
        before = getattr(await reader.by_slug("c"), "sms_sender", None)
        await Office.update(
            {Office.sms_sender: "CHANGED", Office.updated_at: datetime.now(UTC)}
        ).where(Office.id == office_id)
        cached = getattr(await reader.by_slug("c"), "sms_sender", None)  # within the interval
        time.sleep(offices.CHECK_EVERY_S + 0.05)
        after = getattr(await reader.by_slug("c"), "sms_sender", None)
        return before, cached, after

    before, cached, after = fresh(scenario)
    assert before == cached == "NONGBUA"
    assert after == "CHANGED"


def test_a_new_host_reaches_every_directory(tmp_path: Path, database: str) -> None:
    settings = _settings(tmp_path, database)

    async def scenario() -> int | None:
        office_id = await create_office("d", hosts=("d.example.test",), services=False)
        reader = OfficeDirectory(settings)
        assert await reader.for_host("d2.example.test") is None
        await add_host(office_id, "d2.example.test")
        reader.forget()
        found = await reader.for_host("d2.example.test")
        return found.id if found else None

    assert fresh(scenario) is not None


def test_a_database_gone_for_a_moment_keeps_the_last_snapshot(
    tmp_path: Path, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, database)
    directory = OfficeDirectory(settings)
    assert fresh(directory.by_id(DEFAULT_OFFICE_ID)) is not None

    async def gone() -> tuple[str, int, int]:
        raise ConnectionResetError("the server restarted")

    monkeypatch.setattr(offices, "_version", gone)
    directory.forget()
    found = fresh(directory.by_id(DEFAULT_OFFICE_ID))  # what was known still answers
    assert found is not None and found.id == DEFAULT_OFFICE_ID
    with pytest.raises(ConnectionResetError):  # nothing known yet: the caller says 503
        fresh(OfficeDirectory(settings).by_id(DEFAULT_OFFICE_ID))
