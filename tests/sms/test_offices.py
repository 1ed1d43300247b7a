"""SMS per office (issue 16): each office's rows, sender, links and daily budget.

An SMS row belongs to the office that wrote it and carries that office's sender; links in it
start at that office's link base; each office spends its own budget (office B out of room never
holds office A's messages), the dispatcher never hands an office more than its budget, and the
platform's ceiling (PORTAL_SMS_PLATFORM_DAILY_LIMIT) counts every office together.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.tracking_links import tracking_link
from portal.sms import budget
from portal.sms.dispatcher import Dispatcher
from portal.sms.failures import recent_failures
from portal.sms.outbox import SmsConfig, list_messages
from portal.tables.sms_message import SmsMessage, SmsState
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, submit_form, verify_phone
from tests.conftest import fresh
from tests.offices import create_office, office_ref
from tests.security.helpers import browser_from
from tests.sms.messages import OUTBOX, PHONES, WEBHOOK, budget_of, queue, row
from tests.sms.test_dispatcher import FAST, ScriptedProvider

LEASE = timedelta(seconds=30)


class Budgets:
    """The dispatcher's office lookup with each office's own budget."""

    def __init__(self, *offices: OfficeRef) -> None:
        self.offices = {office.id: office for office in offices}

    async def by_id(self, office_id: int) -> OfficeRef | None:
        return self.offices.get(office_id)


def two_offices(**columns: object) -> tuple[OfficeRef, OfficeRef]:
    async def make() -> tuple[OfficeRef, OfficeRef]:
        other = await create_office("nongbua", services=False, **columns)
        return await office_ref(), await office_ref(other)

    return fresh(make())


@pytest.mark.usefixtures("database")
def test_a_row_belongs_to_its_office_and_carries_its_sender() -> None:
    here, there = two_offices(sms_sender="NONGBUA")
    mine = fresh(queue(office=here))
    theirs = fresh(queue(phone=PHONES[1], office=there))
    assert (fresh(row(mine))["office"], fresh(row(mine))["sender"]) == (here.id, "OSS-LOCAL")
    assert (fresh(row(theirs))["office"], fresh(row(theirs))["sender"]) == (there.id, "NONGBUA")


@pytest.mark.usefixtures("database")
def test_the_office_config_links_and_names_the_office() -> None:
    _, there = two_offices(
        sms_sender="NONGBUA",
        base_url="https://eservice.nongbua.go.th",
        sms_link_base_url="https://nb.go.th",
    )
    config = WEBHOOK.for_office(there)
    assert (config.backend, config.sender) == ("webhook", "NONGBUA")
    assert config.link_base == "https://nb.go.th"
    assert config.web_host == "eservice.nongbua.go.th"
    assert tracking_link(config.link_base, "Xk3vQ9pLm2Rt7Wz4Yb8Nc6") == (
        "https://nb.go.th/t/Xk3vQ9pLm2Rt7Wz4Yb8Nc6"
    )
    without_short_host = replace(there, sms_link_base=there.base_url)
    assert WEBHOOK.for_office(without_short_host).link_base == "https://eservice.nongbua.go.th"


def test_the_default_office_keeps_what_the_settings_gave() -> None:
    office = OfficeRef(id=1, slug="main", name="x", base_url="https://a.go.th", sms_link_base="")
    config = SmsConfig(sender="OSS-LOCAL", backend="outbox", link_base="https://s.go.th")
    assert config.for_office(office).link_base == "https://s.go.th"
    assert config.for_office(office).web_host == "a.go.th"


@pytest.mark.usefixtures("database")
def test_each_office_lists_only_its_own_messages() -> None:
    here, there = two_offices()
    fresh(queue(config=OUTBOX, office=here))
    fresh(queue(config=OUTBOX, phone=PHONES[1], office=there))
    assert [m["to_phone"] for m in fresh(list_messages(office=here))] == [PHONES[0]]
    assert [m["to_phone"] for m in fresh(list_messages(office=there))] == [PHONES[1]]
    assert len(fresh(list_messages(office=None))) == 2  # ``portal sms outbox``: the platform's
    assert fresh(list_messages(office=here, to_phone=PHONES[1])) == []


def test_the_development_outbox_page_shows_the_offices_messages_only(
    app: Litestar, client: TestClient[Litestar], run_db: Any
) -> None:
    other = run_db(lambda: create_office("nongbua", services=False))
    here, there = run_db(office_ref), run_db(lambda: office_ref(other))
    run_db(lambda: queue(config=OUTBOX, office=here, text="ของสำนักงานแรก"))
    run_db(lambda: queue(config=OUTBOX, phone=PHONES[1], office=there, text="ของหนองบัว"))
    local = browser_from(app, client, "127.0.0.1")
    at_default = local.get("/dev/sms")
    at_other = local.get("/o/nongbua/dev/sms")
    assert at_default.status_code == at_other.status_code == 200
    assert "ของสำนักงานแรก" in at_default.text and "ของหนองบัว" not in at_default.text
    assert "ของหนองบัว" in at_other.text and "ของสำนักงานแรก" not in at_other.text


@pytest.mark.usefixtures("database")
def test_an_office_out_of_budget_does_not_hold_another_offices_messages() -> None:
    here, there = two_offices()
    here, there = budget_of(10, here), budget_of(1, there)
    spent = fresh(queue(config=OUTBOX, phone=PHONES[9], office=there))  # B's one SMS today
    waiting = [fresh(queue(phone=PHONES[n], office=there)) for n in (1, 2)]
    mine = [fresh(queue(phone=PHONES[n], office=here)) for n in (3, 4)]
    provider = ScriptedProvider()
    sent = fresh(Dispatcher(provider, FAST, offices=Budgets(here, there)).run_until_idle())
    assert sent == 2
    assert sorted(m.id for m in provider.sent) == mine
    for message_id in waiting:
        held = fresh(row(message_id))
        assert (held["state"], held["last_error"]) == (SmsState.queued, budget.WAITING_NOTE)
    assert fresh(row(spent))["state"] == SmsState.sent
    assert fresh(budget.status(office=there)).exhausted
    assert fresh(budget.status(office=here)).used == 2


@pytest.mark.usefixtures("database")
def test_the_claim_never_hands_an_office_more_than_its_budget() -> None:
    here, there = two_offices()
    there = budget_of(2, there)
    for n in range(5):
        fresh(queue(phone=PHONES[n], office=there))
    now = utcnow()
    claimed = fresh(budget.claim(now, now + LEASE, 20, office=there))
    assert len(claimed) == 2
    assert fresh(budget.claim(now, now + LEASE, 20, office=there)) == []
    assert fresh(budget.used(now, office_id=there.id)) == 2
    assert fresh(budget.used(now, office_id=here.id)) == 0


@pytest.mark.usefixtures("database")
def test_the_platform_ceiling_counts_every_office() -> None:
    here, there = two_offices()
    here, there = budget_of(10, here), budget_of(10, there)
    for n in range(2):
        fresh(queue(phone=PHONES[n], office=here))
        fresh(queue(phone=PHONES[10 + n], office=there))
    provider = ScriptedProvider()
    dispatcher = Dispatcher(provider, FAST, offices=Budgets(here, there), platform_limit=3)
    assert fresh(dispatcher.run_until_idle()) == 3
    assert fresh(budget.used(utcnow(), office_id=budget.PLATFORM)) == 3
    now = utcnow()
    assert fresh(budget.wait_for_code(now, office=here)) is None  # the office has room
    assert fresh(budget.wait_for_code(now, office=here, platform_limit=3)) is not None


@pytest.mark.usefixtures("database")
def test_the_admins_page_sees_only_its_offices_failures() -> None:
    here, there = two_offices()
    mine = fresh(queue(office=here))
    theirs = fresh(queue(phone=PHONES[1], office=there))

    async def fail_both() -> None:
        await SmsMessage.update(
            {SmsMessage.state: SmsState.failed, SmsMessage.last_error: "refused"}
        ).where(SmsMessage.id.is_in([mine, theirs]))

    fresh(fail_both())
    assert [m.id for m in fresh(recent_failures(office=here))] == [mine]
    assert [m.id for m in fresh(recent_failures(office=there))] == [theirs]


def test_an_offices_receipt_names_it_and_links_to_its_own_host(
    client: TestClient[Litestar], run_db: Any
) -> None:
    """Filed at office B (``/o/nongbua/``): B's sender, B's short link host, B's row; and a
    phone verified at B is not verified at the default office on the same cookie."""
    other = run_db(
        lambda: create_office(
            "nongbua",
            sms_sender="NONGBUA",
            base_url="https://eservice.nongbua.go.th",
            sms_link_base_url="https://nb.go.th",
        )
    )
    verify_phone(client, run_db, "0800000171", "+66800000171", prefix="/o/nongbua")
    filed = submit_form(client, GENERAL_REQUEST_ANSWERS, prefix="/o/nongbua")
    assert filed.status_code == 303
    (receipt,) = [
        m
        for m in run_db(lambda: list_messages(office=None, to_phone="+66800000171"))
        if m["purpose"] == "receipt"
    ]
    assert receipt["sender"] == "NONGBUA"
    assert "https://nb.go.th/t/" in receipt["text"]
    there = run_db(lambda: office_ref(other))
    assert [m["id"] for m in run_db(lambda: list_messages(office=there))] == [
        m["id"] for m in run_db(lambda: list_messages(office=None))
    ]
    at_default = client.get("/e-service/general-request/form", follow_redirects=False)
    assert at_default.status_code in (302, 303)
    assert at_default.headers["location"].endswith("/e-service/general-request/phone")
