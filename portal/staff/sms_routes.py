"""The admins' SMS page: is SMS getting out, which gateway sends, and what went wrong.

When the gateway's credit runs out no citizen gets a code and nobody can file; this page (and
the banner every admin page shows, ``staff/_layout.html``) is where staff see it. It lists the
gateway's own error for each failed message, the purpose and the masked phone, never the text:
a receipt or status message carries the tracking link, a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from portal.kernel.offices import OfficeRef
from portal.settings import Settings
from portal.sms import failover
from portal.sms.failures import MessageStatus, recent_failures
from portal.sms.health import SmsHealth, sms_health
from portal.staff.guards import ADMIN

PURPOSES = {
    "otp": "รหัสยืนยัน",
    "receipt": "รับคำร้อง",
    "status": "แจ้งสถานะ",
    "phone_changed": "เปลี่ยนเบอร์โทร",
}
STATES = {"failed": "ส่งไม่สำเร็จ", "queued": "รอส่งใหม่"}


def masked_phone(e164: str) -> str:
    """08x-xxx-5678, as elsewhere in the back office (``ThaiMobile.masked``); anything else
    (a row refused as not a Thai mobile) keeps only its last four digits."""
    if e164.startswith("+66") and len(e164) > 7:
        national = "0" + e164.removeprefix("+66")
        return f"{national[:2]}x-xxx-{national[-4:]}"
    return "xxx-" + e164[-4:]


@dataclass(frozen=True)
class FailureRow:
    at: datetime
    backend: str
    purpose: str
    state: str
    attempts: int
    error: str
    phone: str


def _row(message: MessageStatus) -> FailureRow:
    return FailureRow(
        at=message.failed_at or message.created_at,
        backend=message.backend,
        purpose=PURPOSES.get(message.purpose, message.purpose),
        state=STATES.get(message.state, message.state),
        attempts=message.attempts,
        error=message.last_error,
        phone=masked_phone(message.to_phone),
    )


@get("/staff/sms", name="staff_sms", guards=ADMIN)
async def sms_page(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    office: NamedDependency[OfficeRef],
) -> Template:
    """The office's own messages and budget; the gateway (and its failover) is the
    platform's, shared by every office."""
    health: SmsHealth | None = getattr(request.state, "sms_health", None)
    if health is None:  # the staff guard computes it for admins; never reached otherwise
        health = await sms_health(office=office, budget_status=request.state.sms_budget)
    gateway = await failover.state()
    active_name = (
        settings.sms_fallback_backend
        if health.on_fallback and settings.sms_fallback_backend
        else settings.sms_backend
    )
    return Template(
        template_name="staff/sms.html",
        context={
            "health": health,
            "gateway": gateway,
            "primary": settings.sms_backend,
            "fallback": settings.sms_fallback_backend,
            "active_name": active_name,
            "queue_minutes": (
                None
                if health.oldest_due_age is None
                else int(health.oldest_due_age.total_seconds() // 60)
            ),
            "failures": [_row(message) for message in await recent_failures(office=office)],
        },
    )


handlers = [sms_page]
