"""The SMS outbox: messages are rows, written in the caller's transaction.

With the ``outbox`` backend the rows are the delivery: a developer reads them with
``portal sms outbox`` or at ``/dev/sms`` instead of on a phone. Real gateways (issue: SMS
dispatcher) will send queued rows from a dispatcher outside the web request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState


@dataclass(frozen=True)
class SmsConfig:
    sender: str
    backend: str


async def enqueue(
    config: SmsConfig,
    *,
    to_phone: str,
    text: str,
    purpose: SmsPurpose,
    now: datetime,
    request_id: int | None = None,
    suppressed: bool = False,
) -> SmsMessage:
    """Write one message in the caller's transaction.

    ``suppressed`` writes the row without its text and marks it never to be sent, so that a
    caller hiding whether it really sends (the tracking lookup) costs the same work either way.
    """
    # The outbox backend's job is done once the row exists; later backends start at queued.
    if suppressed:
        state = SmsState.suppressed
    elif config.backend == "outbox":
        state = SmsState.sent
    else:
        state = SmsState.queued
    message = SmsMessage(
        to_phone=to_phone,
        sender=config.sender,
        text="" if suppressed else text,
        purpose=purpose,
        state=state,
        request=request_id,
        backend=config.backend,
        created_at=now,
    )
    await message.save()
    return message


async def list_messages(*, to_phone: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first, as a developer reading their phone would expect."""
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
    if to_phone:
        query = query.where(SmsMessage.to_phone == to_phone)
    rows: list[dict[str, Any]] = await query.limit(limit)
    return rows
