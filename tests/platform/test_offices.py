"""The platform's office service: creating offices, their hosts (and the rule that keeps the
default office answering), details, switching off; every change audited in its office."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.catalogue.library import standard_slugs
from portal.platform import offices
from portal.platform.offices import Who
from portal.platform.validation import PlatformError
from portal.tables.office import DEFAULT_OFFICE_ID, Office, OfficeHost
from portal.tables.reply_template import ReplyTemplate
from portal.tables.service import Service
from tests.conftest import fresh
from tests.offices import add_host, create_office
from tests.platform.helpers import audit_actions

WHO = Who("platform-test", "192.0.2.1")


def _create(slug: str = "nongbua", **kwargs: Any) -> int:
    values: dict[str, Any] = {"name": "เทศบาลตำบลหนองบัว", "who": WHO, **kwargs}
    office_id: int = fresh(offices.create_office(slug=slug, **values))
    return office_id


def _error(work: Any) -> PlatformError:
    with pytest.raises(PlatformError) as raised:
        fresh(work)
    return raised.value


def _hosts(office_id: int) -> list[str]:
    rows = fresh(OfficeHost.select(OfficeHost.host).where(OfficeHost.office == office_id))
    return sorted(row["host"] for row in rows)


@pytest.mark.usefixtures("database")
def test_a_new_office_has_the_standard_services_templates_hosts_and_an_audit_entry() -> None:
    fresh(add_host(DEFAULT_OFFICE_ID, "eservice.example.go.th"))
    office_id = _create(name_en="Nong Bua", hosts=["nongbua.example.go.th"], sms_sender="NONGBUA")
    row = fresh(Office.select().where(Office.id == office_id).first())
    assert (row["slug"], row["name"], row["name_en"], row["sms_sender"], row["active"]) == (
        "nongbua",
        "เทศบาลตำบลหนองบัว",
        "Nong Bua",
        "NONGBUA",
        True,
    )
    assert not row["env_managed"]
    services = fresh(Service.select(Service.slug).where(Service.office == office_id))
    assert sorted(s["slug"] for s in services) == sorted(standard_slugs())
    assert fresh(ReplyTemplate.count().where(ReplyTemplate.office == office_id)) > 0
    assert _hosts(office_id) == ["nongbua.example.go.th"]
    [(action, details)] = audit_actions(fresh, office_id)
    assert action == "office_created"
    assert details["hosts"] == ["nongbua.example.go.th"]
    assert details["services"] == standard_slugs()
    # Nothing was written to the default office's log.
    assert not [a for a, _ in audit_actions(fresh, DEFAULT_OFFICE_ID) if a.startswith("office")]


@pytest.mark.usefixtures("database")
@pytest.mark.parametrize(
    "slug", ["a", "Nongbua", "-nongbua", "nongbua-", "nong bua", "หนองบัว", "x" * 33, "o/x", ""]
)
def test_a_bad_slug_is_refused(slug: str) -> None:
    assert _error(offices.create_office(slug=slug, name="เทศบาล", who=WHO)).code == "slug"
    assert fresh(Office.count()) == 1


@pytest.mark.usefixtures("database")
def test_slugs_are_unique_and_the_name_must_be_thai() -> None:
    _create("nongbua")
    assert _error(offices.create_office(slug="nongbua", name="เทศบาล", who=WHO)).code == (
        "slug_taken"
    )
    assert _error(offices.create_office(slug="default", name="เทศบาล", who=WHO)).code == (
        "slug_taken"
    )
    for name in ("", "   ", "Nong Bua Municipality"):
        assert _error(offices.create_office(slug="other", name=name, who=WHO)).code == "name"
    _create("ab", name="อบต. ab")  # two characters is enough


@pytest.mark.usefixtures("database")
@pytest.mark.parametrize(
    "host",
    [
        "Nongbua.example",
        "https://nongbua.example",
        "nongbua.example:8000",
        "nongbua.example.",
        "-nongbua.example",
        "nong_bua.example",
        "nong bua.example",
        "192.0.2.1",
        "a" * 64 + ".example",
        "หนองบัว.example",
    ],
)
def test_a_bad_host_is_refused(host: str) -> None:
    fresh(add_host(DEFAULT_OFFICE_ID, "eservice.example.go.th"))
    error = _error(offices.create_office(slug="nongbua", name="เทศบาล", hosts=[host], who=WHO))
    assert (error.code, error.field) == ("host", "hosts")
    assert fresh(Office.count()) == 1


@pytest.mark.usefixtures("database")
def test_a_host_belongs_to_one_office() -> None:
    fresh(add_host(DEFAULT_OFFICE_ID, "eservice.example.go.th"))
    first = _create("nongbua", hosts=["nongbua.example.go.th"])
    for taken in ("nongbua.example.go.th", "eservice.example.go.th"):
        error = _error(offices.create_office(slug="other", name="เทศบาลอื่น", hosts=[taken], who=WHO))
        assert (error.code, error.detail) == ("host_taken", taken)
    assert fresh(Office.count()) == 2
    other = _create("other")
    error = _error(offices.set_hosts(other, ["nongbua.example.go.th"], who=WHO))
    assert error.code == "host_taken"
    assert _hosts(first) == ["nongbua.example.go.th"]


@pytest.mark.usefixtures("database")
def test_the_first_host_of_another_office_waits_for_the_default_offices_host() -> None:
    """Once any office has a host, unknown hosts get 404: the default office, answering on
    any host while none has one, would go silent."""
    error = _error(
        offices.create_office(slug="nongbua", name="เทศบาล", hosts=["nongbua.example"], who=WHO)
    )
    assert error.code == "default_office_needs_host"
    assert fresh(Office.count()) == 1  # nothing half-made
    office_id = _create("nongbua")  # without a host: reached at /o/nongbua/ in development
    error = _error(offices.set_hosts(office_id, ["nongbua.example"], who=WHO))
    assert error.code == "default_office_needs_host"
    assert _hosts(office_id) == []
    fresh(offices.set_hosts(DEFAULT_OFFICE_ID, ["eservice.example.go.th"], who=WHO))
    assert fresh(offices.set_hosts(office_id, ["nongbua.example"], who=WHO)) == ["nongbua.example"]
    # And now the default office keeps a host while another has one.
    error = _error(offices.set_hosts(DEFAULT_OFFICE_ID, [], who=WHO))
    assert error.code == "default_office_keeps_host"
    assert _hosts(DEFAULT_OFFICE_ID) == ["eservice.example.go.th"]


@pytest.mark.usefixtures("database")
def test_hosts_are_added_and_removed_audited_and_touch_the_office() -> None:
    fresh(add_host(DEFAULT_OFFICE_ID, "eservice.example.go.th"))
    office_id = _create("nongbua", hosts=["a.example"])
    long_ago = datetime.now(UTC) - timedelta(days=1)
    fresh(Office.update({Office.updated_at: long_ago}).where(Office.id == office_id))
    hosts = fresh(
        offices.change_hosts(
            office_id, add=["b.example", "c.example"], remove=["a.example"], who=WHO
        )
    )
    assert hosts == ["b.example", "c.example"] == _hosts(office_id)
    row = fresh(Office.select(Office.updated_at).where(Office.id == office_id).first())
    assert row["updated_at"] > long_ago
    assert audit_actions(fresh, office_id)[-1] == (
        "office_hosts_changed",
        {"from": ["a.example"], "to": ["b.example", "c.example"]},
    )


@pytest.mark.usefixtures("database")
def test_disabling_an_office_and_never_the_default_one() -> None:
    office_id = _create("nongbua")
    assert fresh(offices.set_active(office_id, False, who=WHO)) is True
    assert fresh(offices.set_active(office_id, False, who=WHO)) is False
    row = fresh(Office.select(Office.active).where(Office.id == office_id).first())
    assert row["active"] is False or row["active"] == 0
    assert [a for a, _ in audit_actions(fresh, office_id)][-1] == "office_disabled"
    assert _error(offices.set_active(DEFAULT_OFFICE_ID, False, who=WHO)).code == "default_office"
    fresh(offices.set_active(office_id, True, who=WHO))
    assert [a for a, _ in audit_actions(fresh, office_id)][-1] == "office_enabled"
    summary = {o.slug: o for o in fresh(offices.list_offices())}
    assert summary["nongbua"].active and summary["default"].active


@pytest.mark.usefixtures("database")
def test_details_are_checked_and_saved() -> None:
    office_id = _create("nongbua")
    form = {
        "name": "เทศบาลตำบลหนองบัว",
        "name_en": "Nong Bua",
        "phone": "080-000-0001",
        "line_url": "https://line.me/R/ti/p/@nongbua",
        "email": "saraban@nongbua.example",
        "address": "1 หมู่ 2\nตำบลหนองบัว",
        "hours": "จันทร์-ศุกร์ 08:30-16:30",
        "map_url": "https://maps.example/nongbua",
        "privacy_contact_phone": "080-000-0002",
        "privacy_contact_email": "dpo@nongbua.example",
        "sms_sender": "NONGBUA",
        "sms_daily_budget": "300",
        "retention_days": "730",
        "base_url": "https://nongbua.example/",
        "sms_link_base_url": "",
    }
    fresh(offices.update_details(office_id, form, development=False, who=WHO))
    row = fresh(Office.select().where(Office.id == office_id).first())
    assert row["sms_daily_budget"] == 300 and row["retention_days"] == 730
    assert row["base_url"] == "https://nongbua.example"
    assert row["address"] == "1 หมู่ 2\nตำบลหนองบัว"
    assert row["sms_sender"] == "NONGBUA"
    action, details = audit_actions(fresh, office_id)[-1]
    assert action == "office_details_changed" and "sms_sender" in details["changed"]
    bad = {
        "sms_sender": ("OSS-LOCAL-LONG", "Sender_1", "ส่ง"),
        "line_url": ("javascript:alert(1)", "http://line.me/x"),
        "email": ("not-an-email",),
        "phone": ("call me",),
        "sms_daily_budget": ("-1", "many", "2000000"),
        "retention_days": ("7",),
        "base_url": ("ftp://nongbua.example", "http://nongbua.example", "https://x.example/?a=1"),
        "name": ("Nong Bua",),
    }
    for field, values in bad.items():
        for value in values:
            error = _error(
                offices.update_details(
                    office_id, {**form, field: value}, development=False, who=WHO
                )
            )
            assert error.field == field, (field, value, error)
    # In development a plain-http base URL (127.0.0.1) is fine.
    dev = {**form, "base_url": "http://127.0.0.1:8000/o/nongbua"}
    fresh(offices.update_details(office_id, dev, development=True, who=WHO))


@pytest.mark.usefixtures("database")
def test_the_env_managed_default_office_is_not_edited_here() -> None:
    error = _error(
        offices.update_details(DEFAULT_OFFICE_ID, {"name": "เทศบาลอื่น"}, development=False, who=WHO)
    )
    assert error.code == "env_managed"


@pytest.mark.usefixtures("database")
def test_the_office_list_counts_each_offices_requests() -> None:
    fresh(create_office("nongbua"))
    listed = {office.slug: office for office in fresh(offices.list_offices())}
    assert set(listed) == {"default", "nongbua"}
    assert listed["nongbua"].requests == 0
    assert listed["default"].is_default and not listed["nongbua"].is_default
