"""Many submissions at once, each form sent twice: nothing lost, nothing half-written.

A bounded stress test of the transactional filing path on whichever database the run uses:
every answer a citizen got names a request that exists, with its first timeline event and its
receipt SMS, and a form's key files exactly one request however its copies race.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from portal.catalogue.service import get_active_service
from portal.citizen.service import FiledRequest, file_request
from portal.sms.outbox import SmsConfig
from portal.tables.citizen_request import CitizenRequest
from portal.tables.request_event import RequestEvent
from portal.tables.sms_message import SmsMessage, SmsPurpose
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, SERVICE, RunDb, new_submission_key
from tests.conftest import filing_vault
from tests.offices import office_ref

FORMS = 150
COPIES = 2
PHONES = [f"+668000009{n:02d}" for n in range(50)]


async def _file_all() -> tuple[list[tuple[str, FiledRequest]], dict[str, str]]:
    office = await office_ref()
    service = await get_active_service(SERVICE, office=office)
    assert service is not None
    phone_of = {new_submission_key(): PHONES[n % len(PHONES)] for n in range(FORMS)}
    attempts = [key for key in phone_of for _ in range(COPIES)]
    random.shuffle(attempts)

    async def submit(key: str) -> tuple[str, FiledRequest]:
        filed = await file_request(
            service=service,
            phone=phone_of[key],
            answers=GENERAL_REQUEST_ANSWERS,
            submission_key=key,
            sms=SmsConfig(sender="OSS-LOCAL", backend="outbox").for_office(office),
            office=office,
            vault=filing_vault(),
        )
        return key, filed

    return list(await asyncio.gather(*(submit(key) for key in attempts))), phone_of


def test_concurrent_double_submissions_file_each_form_once_and_whole(run_db: RunDb) -> None:
    answers, phone_of = run_db(_file_all)

    by_key: dict[str, set[int]] = {}
    for key, filed in answers:
        assert filed.phone == phone_of[key]
        by_key.setdefault(key, set()).add(filed.id)
    assert all(len(ids) == 1 for ids in by_key.values())  # each copy got the same request

    requests = run_db(lambda: CitizenRequest.select(CitizenRequest.id, CitizenRequest.number))
    events = run_db(lambda: RequestEvent.select(RequestEvent.request))
    receipts = run_db(
        lambda: SmsMessage.select(SmsMessage.request).where(
            SmsMessage.purpose == SmsPurpose.receipt
        )
    )
    filed_ids = {filed.id for _, filed in answers}
    assert {int(row["id"]) for row in requests} == filed_ids
    assert len(filed_ids) == FORMS
    assert Counter(int(row["request"]) for row in events) == dict.fromkeys(filed_ids, 1)
    assert Counter(int(row["request"]) for row in receipts) == dict.fromkeys(filed_ids, 1)
    assert len({row["number"] for row in requests}) == FORMS
