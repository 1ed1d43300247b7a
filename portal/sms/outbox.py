"""The SMS outbox: messages are rows, written in the caller's transaction.

With the ``outbox`` backend the rows are the delivery: a developer reads them with
``portal sms outbox`` or at ``/dev/sms`` instead of on a phone. With a real gateway the rows
start ``queued`` and a dispatcher (``portal/sms/dispatcher.py``) sends them outside the web
request, so a gateway that is slow or down never fails or slows the citizen's step, and a
message whose transaction rolled back never leaves.

Every message belongs to an office (``enqueue(..., office=...)``): it goes out under that
office's sender, counts against that office's daily budget, and its links start at that
office's link base (``SmsConfig.for_office``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from portal.kernel.offices import OfficeRef
from portal.sms.texts import webotp_host
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState

if TYPE_CHECKING:
    from portal.settings import Settings

RETRY_WINDOW = timedelta(hours=4)
"""How long the dispatcher keeps trying a message other than an OTP before it is failed; a
wait for room in the daily budget moves this window on (``portal/sms/budget.py``)."""


@dataclass(frozen=True)
class SmsConfig:
    sender: str
    backend: str
    link_base: str = ""
    """Base of the links in SMS (``PORTAL_SMS_LINK_BASE_URL``); empty: the caller's base URL."""
    web_host: str = ""
    """The pages' own host for the OTP SMS's WebOTP line (``@host #code``); empty: no line."""

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsConfig:
        return cls(
            sender=settings.sms_sender,
            backend=settings.sms_backend,
            link_base=settings.sms_link_base,
            web_host=webotp_host(settings.base_url),
        )

    def for_office(self, office: OfficeRef) -> SmsConfig:
        """This config (its backend) with ``office``'s sender, SMS link base and WebOTP host:
        an office's SMS name it and link to its own pages. The default office keeps what
        the deployment's settings gave this config (they describe it), where they gave it."""
        if office.is_default:
            return replace(
                self,
                sender=office.sms_sender,
                link_base=self.link_base or office.sms_link_base,
                web_host=self.web_host or webotp_host(office.base_url),
            )
        return replace(
            self,
            sender=office.sms_sender,
            link_base=office.sms_link_base,
            web_host=webotp_host(office.base_url),
        )


async def enqueue(
    config: SmsConfig,
    *,
    office: OfficeRef,
    to_phone: str,
    text: str,
    purpose: SmsPurpose,
    now: datetime,
    request_id: int | None = None,
    expires_at: datetime | None = None,
) -> SmsMessage:
    """Write one message in the caller's transaction.

    ``expires_at``: when the message stops being worth sending; an OTP must pass its code's
    expiry (a code that arrives dead is worse than none), other messages default to
    ``RETRY_WINDOW`` from now. The row is ``office``'s and carries its sender.
    """
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    # The outbox backend's job is done once the row exists; real gateways start at queued.
    if config.backend == "outbox":
        state, sent_at = SmsState.sent, now
    else:
        if purpose == SmsPurpose.otp and expires_at is None:
            raise ValueError("an OTP to send needs the expiry of its code")
        state, next_attempt_at = SmsState.queued, now
    message = SmsMessage(
        office=office.id,
        to_phone=to_phone,
        sender=office.sms_sender,
        text=text,
        purpose=purpose,
        state=state,
        request=request_id,
        backend=config.backend,
        created_at=now,
        next_attempt_at=next_attempt_at,
        expires_at=expires_at or now + RETRY_WINDOW,
        sent_at=sent_at,
    )
    await message.save()
    return message


async def list_messages(
    *, office: OfficeRef | None, to_phone: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Newest first, as a developer reading their phone would expect: ``office``'s messages,
    or (None: ``portal sms outbox``, the developer's whole platform) every office's."""
    query = (
        SmsMessage.select(
            SmsMessage.id,
            SmsMessage.to_phone,
            SmsMessage.sender,
            SmsMessage.text,
            SmsMessage.purpose,
            SmsMessage.state,
            SmsMessage.created_at,
        )
        .where(SmsMessage.state != SmsState.suppressed)
        .order_by(SmsMessage.id, ascending=False)
    )
    if office is not None:
        query = query.where(SmsMessage.office == office.id)
    if to_phone:
        query = query.where(SmsMessage.to_phone == to_phone)
    rows: list[dict[str, Any]] = await query.limit(limit)
    return rows
