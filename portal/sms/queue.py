"""The outbox as a work queue: claim due messages, record what became of each.

A claim is one conditional UPDATE that moves due rows to ``sending`` with a lease and bumps
``attempts``; only the dispatcher whose UPDATE changed a row owns it. On PostgreSQL the rows are
picked with ``FOR UPDATE SKIP LOCKED``, so dispatchers in other processes pass over rows being
claimed instead of queueing behind them; on SQLite the single writer serialises the UPDATEs and
the repeated conditions make a second claim of the same row change nothing.

The ``attempts`` value a claim returns is its fencing token: every outcome is written only
``WHERE state = 'sending' AND attempts = <that value>``, so a dispatcher that overran its lease
(and lost the row to another) cannot overwrite the newer attempt's result.

A claim may take one kind of due message only (``Due``): those the daily budget already counts
(OTPs, admitted at issuance, and rows a crashed dispatcher left ``sending``) and those it does
not yet count (receipts, status and phone-change messages waiting for room); see
``portal/sms/budget.py``, which decides how many of the second kind may go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from portal.db import current_engine
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState

# Due: queued and its time has come, or left ``sending`` by a dispatcher whose lease ran out
# (a claim keeps ``next_attempt_at``, so that row is past it too); never past its expiry
# (``fail_expired`` settles those). Only unsettled rows have a ``next_attempt_at``, so its
# index keeps this cheap however many settled messages the table holds.
# ARRAY(...) makes PostgreSQL run the locking sub-select exactly once (an InitPlan), never
# again per outer row. Placeholders: lease, now x3, (office,) limit.
POSTGRES_CLAIM = """
UPDATE sms_message
SET state = 'sending', lease_until = {}, attempts = attempts + 1
WHERE id = ANY(ARRAY(
    SELECT id FROM sms_message
    WHERE next_attempt_at <= {}
      AND (state = 'queued' OR (state = 'sending' AND lease_until <= {}))
      AND expires_at > {}
      %(kind)s%(office)s
    ORDER BY %(order)s
    LIMIT {}
    FOR UPDATE SKIP LOCKED
))
RETURNING id, attempts
"""

# SQLite has no row locks; the outer WHERE repeats the condition so that an UPDATE that waited
# for the write lock behind another claim skips the rows that claim took. Placeholders: lease,
# now x3, (office,) limit, now x3.
SQLITE_CLAIM = """
UPDATE sms_message
SET state = 'sending', lease_until = {}, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM sms_message
    WHERE next_attempt_at <= {}
      AND (state = 'queued' OR (state = 'sending' AND lease_until <= {}))
      AND expires_at > {}
      %(kind)s%(office)s
    ORDER BY %(order)s
    LIMIT {}
)
AND next_attempt_at <= {}
AND (state = 'queued' OR (state = 'sending' AND lease_until <= {}))
AND expires_at > {}
RETURNING id, attempts
"""


class Due(Enum):
    """Which due messages a claim takes: a filter and an order, fixed text, never input."""

    any = ("", "next_attempt_at, id")
    counted = ("AND (purpose = 'otp' OR state = 'sending')", "next_attempt_at, id")
    """Already counted against the budget: taking them spends nothing more."""
    uncounted = ("AND purpose <> 'otp' AND state = 'queued'", "id")
    """Spend the budget when claimed; oldest first, so messages waiting for room keep order."""

    def sql(self, template: str, *, one_office: bool) -> str:
        kind, order = self.value
        office = "\n      AND office = {}" if one_office else ""
        return template % {"kind": kind, "order": order, "office": office}


@dataclass(frozen=True)
class ClaimedSms:
    id: int
    attempts: int
    to_phone: str
    sender: str
    text: str
    purpose: SmsPurpose
    expires_at: datetime


async def has_work(now: datetime) -> bool:
    """Anything due, in flight or expired? A read, so an idle dispatcher polling every second
    never takes SQLite's write lock.

    One indexed range covers all three because an unsettled row's ``next_attempt_at`` is always
    before its ``expires_at`` (``enqueue`` starts it at creation, a retry that would pass the
    expiry fails the message instead, a claim leaves it as it was): an expired row is due too.
    """
    return bool(await SmsMessage.exists().where(SmsMessage.next_attempt_at <= now))


async def offices_due(now: datetime) -> list[int]:
    """The offices with a message due (or expired): each has its own budget to claim within."""
    rows = (
        await SmsMessage.select(SmsMessage.office)
        .where(SmsMessage.next_attempt_at <= now)
        .distinct()
        .order_by(SmsMessage.office)
    )
    return [int(row["office"]) for row in rows]


async def claim_due(
    now: datetime,
    lease_until: datetime,
    limit: int,
    due: Due = Due.any,
    *,
    office_id: int | None = None,
) -> list[ClaimedSms]:
    """Take up to ``limit`` due messages (queued, or a crashed dispatcher's expired lease),
    of ``office_id`` only when given (the budget's claims: each office spends its own)."""
    if limit <= 0:
        return []
    due_args = [now, now, now]
    office = [] if office_id is None else [office_id]
    one_office = office_id is not None
    if isinstance(current_engine(), PostgresEngine):
        sql = due.sql(POSTGRES_CLAIM, one_office=one_office)
        rows = await SmsMessage.raw(sql, lease_until, *due_args, *office, limit)
    else:
        sql = due.sql(SQLITE_CLAIM, one_office=one_office)
        rows = await SmsMessage.raw(sql, lease_until, *due_args, *office, limit, *due_args)
    if not rows:
        return []
    attempts = {int(row["id"]): int(row["attempts"]) for row in rows}
    details: list[dict[str, Any]] = await SmsMessage.select(
        SmsMessage.id,
        SmsMessage.to_phone,
        SmsMessage.sender,
        SmsMessage.text,
        SmsMessage.purpose,
        SmsMessage.expires_at,
    ).where(SmsMessage.id.is_in(list(attempts)))
    return [
        ClaimedSms(
            id=int(row["id"]),
            attempts=attempts[int(row["id"])],
            to_phone=row["to_phone"],
            sender=row["sender"],
            text=row["text"],
            purpose=SmsPurpose(row["purpose"]),
            expires_at=row["expires_at"],
        )
        for row in sorted(details, key=lambda row: int(row["id"]))
    ]


def _settled() -> dict[Any, Any]:
    return {SmsMessage.next_attempt_at: None, SmsMessage.lease_until: None}


def _owned(claimed: ClaimedSms) -> tuple[Any, ...]:
    return (
        SmsMessage.id == claimed.id,
        SmsMessage.state == SmsState.sending,
        SmsMessage.attempts == claimed.attempts,
    )


async def _update_owned(claimed: ClaimedSms, values: dict[Any, Any]) -> bool:
    rows = await SmsMessage.update(values).where(*_owned(claimed)).returning(SmsMessage.id)
    return bool(rows)


async def record_sent(
    claimed: ClaimedSms, *, backend: str, provider_message_id: str | None, now: datetime
) -> bool:
    values = {
        **_settled(),
        SmsMessage.state: SmsState.sent,
        SmsMessage.sent_at: now,
        SmsMessage.backend: backend,
        SmsMessage.provider_message_id: provider_message_id,
        SmsMessage.last_error: "",
    }
    if claimed.purpose == SmsPurpose.otp:
        values[SmsMessage.text] = ""  # the code has reached the gateway: keep it nowhere else
    return await _update_owned(claimed, values)


async def record_retry(
    claimed: ClaimedSms, *, error: str, next_attempt_at: datetime, backend: str | None = None
) -> bool:
    """``backend``: the gateway that failed this try (with a fallback it may not be the one
    the message was written for), so the admins' SMS page names the right one."""
    values: dict[Any, Any] = {
        SmsMessage.state: SmsState.queued,
        SmsMessage.next_attempt_at: next_attempt_at,
        SmsMessage.lease_until: None,
        SmsMessage.last_error: error[:500],
    }
    if backend:
        values[SmsMessage.backend] = backend
    return await _update_owned(claimed, values)


async def record_failed(
    claimed: ClaimedSms, *, error: str, now: datetime, backend: str | None = None
) -> bool:
    values = {
        **_settled(),
        SmsMessage.state: SmsState.failed,
        SmsMessage.failed_at: now,
        SmsMessage.last_error: error[:500],
    }
    if backend:
        values[SmsMessage.backend] = backend
    if claimed.purpose == SmsPurpose.otp:
        values[SmsMessage.text] = ""
    return await _update_owned(claimed, values)


async def fail_expired(now: datetime) -> int:
    """Messages whose time ran out before they could go: failed, an OTP's code blanked.

    Includes a row a crashed dispatcher left ``sending``: whether the gateway took it is
    unknown, and it is too late to try again.
    """
    waiting = (SmsMessage.state == SmsState.queued) | (
        (SmsMessage.state == SmsState.sending) & (SmsMessage.lease_until <= now)
    )
    unsettled = SmsMessage.next_attempt_at <= now  # see has_work: uses the index
    total = 0
    for is_otp in (True, False):
        values = {
            **_settled(),
            SmsMessage.state: SmsState.failed,
            SmsMessage.failed_at: now,
            SmsMessage.last_error: "expired before it could be sent",
        }
        if is_otp:
            values[SmsMessage.text] = ""
            purpose = SmsMessage.purpose == SmsPurpose.otp
        else:
            purpose = SmsMessage.purpose != SmsPurpose.otp
        rows = (
            await SmsMessage.update(values)
            .where(unsettled, waiting, SmsMessage.expires_at <= now, purpose)
            .returning(SmsMessage.id)
        )
        total += len(rows)
    return total
