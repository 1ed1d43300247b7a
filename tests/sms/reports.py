"""A portal configured for one SMS gateway's delivery reports, and a sent message to report on:
shared by the report-route tests and the schemathesis fuzzing of the same endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.kernel.clock import utcnow
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState
from tests.conftest import make_settings
from tests.sms.messages import PHONES

TOKEN = "report-token-0123456789"
TWILIO_TOKEN = "test-auth-token"
BASE = "https://eservice.example.go.th"
GATEWAYS = {
    "webhook": {"PORTAL_SMS_WEBHOOK_URL": "http://127.0.0.1:9/sms"},
    "thaibulksms": {
        "PORTAL_SMS_THAIBULKSMS_API_KEY": "key",
        "PORTAL_SMS_THAIBULKSMS_API_SECRET": "secret",
    },
    "twilio": {
        "PORTAL_SMS_TWILIO_ACCOUNT_SID": "AC0",
        "PORTAL_SMS_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    },
}


@contextmanager
def report_portal(
    tmp_path: Path, database: str, backend: str, fallback: str | None = None
) -> Iterator[TestClient[Litestar]]:
    """The portal with ``backend`` as its SMS gateway (and ``fallback`` behind it), reports on,
    and no dispatcher running (PORTAL_SMS_DISPATCH=worker), so nothing tries to reach a real
    gateway."""
    extra = {"PORTAL_SMS_FALLBACK_BACKEND": fallback, **GATEWAYS[fallback]} if fallback else {}
    settings = make_settings(
        tmp_path,
        database,
        PORTAL_SMS_BACKEND=backend,
        PORTAL_SMS_REPORT_TOKEN=TOKEN,
        PORTAL_SMS_DISPATCH="worker",
        **GATEWAYS.get(backend, {}),
        **extra,
    )
    with TestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        yield client


def sent_message(
    client: TestClient[Litestar], backend: str, provider_id: str, state: SmsState = SmsState.sent
) -> int:
    async def write() -> int:
        now = utcnow()
        message = SmsMessage(
            office=DEFAULT_OFFICE_ID,
            to_phone=PHONES[30],
            sender="OSS-LOCAL",
            text="ได้รับคำร้อง",
            purpose=SmsPurpose.receipt,
            state=state,
            backend=backend,
            created_at=now,
            expires_at=now,
            sent_at=now,
            provider_message_id=provider_id,
        )
        await message.save()
        return int(message.id)

    assert client.blocking_portal is not None
    return client.blocking_portal.call(write)


def stored(client: TestClient[Litestar], message_id: int) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        found = await SmsMessage.select().where(SmsMessage.id == message_id).first()
        assert found is not None
        return found

    assert client.blocking_portal is not None
    return client.blocking_portal.call(read)
