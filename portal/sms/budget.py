"""The daily SMS budget (PORTAL_SMS_DAILY_LIMIT): what counts against it, who waits for room.

What counts (``used``), over a rolling 24 hours:

- every message handed to a gateway in the window (a ``sent_at`` in it: sent, delivered, or
  failed by a delivery report after it left): the office pays for those;
- every message being sent right now (``sending``): the gateway may be taking it;
- every OTP waiting in the queue: issuance admitted it, so it already owns its place.

Nothing that is never sent counts: the tracking lookup's ``suppressed`` stand-ins, messages
refused or expired before a gateway took them, receipts still waiting for room.

Who goes when the budget is full:

- a code: refused at issuance with the Thai 429 (``wait_for_code``), its ``Retry-After`` the
  moment the oldest counted message leaves the window. A code that is admitted is counted at
  once, so the dispatcher sends it without asking: it never waits behind receipts, and dies
  with its five minutes, never sent late;
- receipts, status and phone-change messages: always written (filing and casework never fail
  for the budget), then claimed oldest first only into the room left (``claim``); the rest
  wait, their ``next_attempt_at`` moved to when room frees, their expiry moved so the wait does
  not eat the four hours of gateway retries, up to ``LONGEST_WAIT`` after they were written.

Counting and the claims that raise the count happen under one lock (an advisory lock on
PostgreSQL, the write lock on SQLite), shared by code issuance and by every dispatcher of every
process, so together they never pass the limit.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from piccolo.custom_types import Combinable
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from portal.db import current_engine, write_transaction
from portal.kernel.clock import utcnow
from portal.sms import queue
from portal.sms.outbox import RETRY_WINDOW
from portal.sms.queue import ClaimedSms, Due
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState

WINDOW = timedelta(hours=24)
LONGEST_WAIT = timedelta(hours=48)
"""A receipt or status message is never sent later than this after it was written: by then
the window has turned twice, and the citizen has the number and link on screen or from staff."""
SEND_SLACK = timedelta(hours=1)
"""Past its expiry a send can still finish (the send deadline, well under a minute)."""
RELEASE_EVERY = timedelta(minutes=1)
"""How often a dispatcher looks whether held-back messages may go before their time."""
LOCK = "sms-budget"
WAITING_NOTE = "waiting for room in the daily SMS budget (PORTAL_SMS_DAILY_LIMIT)"
"""``last_error`` of a message held back by the budget, so staff see why it has not gone."""
_CHUNK = 500


def _handed_over(now: datetime) -> Combinable:
    """Taken by a gateway in the window. ``created_at`` bounds the index range: nothing is sent
    later than ``LONGEST_WAIT`` (plus a send's deadline) after it was written."""
    since = now - WINDOW
    earliest = since - LONGEST_WAIT - SEND_SLACK
    return (SmsMessage.created_at > earliest) & (SmsMessage.sent_at > since)


def _counted(now: datetime) -> Combinable:
    unsettled = SmsMessage.next_attempt_at.is_not_null()  # indexed; settled rows have none
    in_flight = SmsMessage.state == SmsState.sending
    admitted_code = (
        (SmsMessage.state == SmsState.queued)
        & (SmsMessage.purpose == SmsPurpose.otp)
        & (SmsMessage.expires_at > now)
    )
    return _handed_over(now) | (unsettled & (in_flight | admitted_code))


async def used(now: datetime) -> int:
    return int(await SmsMessage.count().where(_counted(now)))


async def _room_frees_at(over: int, now: datetime) -> datetime:
    """When the count falls below the limit: ``over`` (used minus limit, at least 0) more
    counted messages must leave the window first, oldest first. With fewer sent messages than
    that in the window (a lowered limit, everything in flight), a whole window from now."""
    row = (
        await SmsMessage.select(SmsMessage.sent_at)
        .where(_handed_over(now))
        .order_by(SmsMessage.sent_at)
        .offset(max(0, over))
        .first()
    )
    if row is None:
        return now + WINDOW
    sent_at: datetime = row["sent_at"]
    return max(now, sent_at + WINDOW)


async def _lock() -> None:
    """Serialise with every other budget decision until the caller's transaction ends (on
    SQLite the caller's IMMEDIATE transaction already holds the only write lock)."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        key = zlib.crc32(LOCK.encode())
        await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock({})", key))


async def wait_for_code(limit: int, now: datetime) -> timedelta | None:
    """None if a code may be sent now; else how long until room frees. Call it in the
    transaction that writes the code's message: the lock holds until that commits."""
    await _lock()
    count = await used(now)
    if count < limit:
        return None
    return await _room_frees_at(count - limit, now) - now


async def claim(now: datetime, lease_until: datetime, batch: int, limit: int) -> list[ClaimedSms]:
    """The dispatcher's claim: every due counted message (codes first), then uncounted ones,
    oldest first, into the room left; if that fills the budget, the rest wait for room."""
    async with write_transaction(serialize=LOCK):
        counted = await queue.claim_due(now, lease_until, batch, Due.counted)
        count = await used(now)
        room = max(0, limit - count)
        spending = await queue.claim_due(
            now, lease_until, min(room, batch - len(counted)), Due.uncounted
        )
        if len(spending) >= room:
            await _hold_back(now, await _room_frees_at(count + len(spending) - limit, now))
    return counted + spending


async def release(now: datetime, limit: int) -> int:
    """Bring held-back messages forward when room came early: the limit was raised (the banner
    tells staff to), or messages counted as in flight failed before a gateway took them. The
    dispatcher calls it now and then (``RELEASE_EVERY``); returns how many are due now."""
    held_back = (
        SmsMessage.next_attempt_at > now,  # indexed: only messages waiting for a later time
        SmsMessage.state == SmsState.queued,
        SmsMessage.last_error == WAITING_NOTE,
    )
    if not await SmsMessage.exists().where(*held_back):
        return 0  # a read: an idle dispatcher does not take SQLite's write lock for nothing
    async with write_transaction(serialize=LOCK):
        room = limit - await used(now)
        if room <= 0:
            return 0
        held = (
            await SmsMessage.select(SmsMessage.id)
            .where(*held_back)
            .order_by(SmsMessage.id)
            .limit(min(room, _CHUNK))
        )
        if not held:
            return 0
        await SmsMessage.update({SmsMessage.next_attempt_at: now}).where(
            SmsMessage.id.is_in([int(row["id"]) for row in held]),
            SmsMessage.state == SmsState.queued,
        )
        return len(held)


async def _hold_back(now: datetime, until: datetime) -> None:
    """Move the due uncounted messages to ``until``; one that cannot go before the end of its
    life (``LONGEST_WAIT``) waits for its expiry instead, where ``fail_expired`` settles it."""
    rows = await SmsMessage.select(
        SmsMessage.id, SmsMessage.created_at, SmsMessage.expires_at
    ).where(
        SmsMessage.next_attempt_at <= now,
        SmsMessage.state == SmsState.queued,
        SmsMessage.purpose != SmsPurpose.otp,
        SmsMessage.expires_at > now,
    )
    plans: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    for row in rows:
        expires: datetime = row["expires_at"]
        expires = min(row["created_at"] + LONGEST_WAIT, max(expires, until + RETRY_WINDOW))
        plans[(min(until, expires), expires)].append(int(row["id"]))
    for (next_attempt_at, expires_at), ids in plans.items():
        for start in range(0, len(ids), _CHUNK):
            await SmsMessage.update(
                {
                    SmsMessage.next_attempt_at: next_attempt_at,
                    SmsMessage.expires_at: expires_at,
                    SmsMessage.last_error: WAITING_NOTE,
                }
            ).where(
                SmsMessage.id.is_in(ids[start : start + _CHUNK]),
                SmsMessage.state == SmsState.queued,
            )


@dataclass(frozen=True)
class BudgetStatus:
    """The budget as staff see it: in the back office's banner and the inbox's warning."""

    used: int
    limit: int
    waiting: int = 0
    """Receipts, status and phone-change messages queued (for room, or a gateway retry)."""
    room_at: datetime | None = None
    """When full: when the next message may go."""

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit


async def status(limit: int, now: datetime | None = None) -> BudgetStatus:
    now = now or utcnow()
    count = await used(now)
    if count < limit:
        return BudgetStatus(count, limit)
    waiting = await SmsMessage.count().where(
        SmsMessage.next_attempt_at.is_not_null(),
        SmsMessage.state == SmsState.queued,
        SmsMessage.purpose != SmsPurpose.otp,
    )
    return BudgetStatus(count, limit, int(waiting), await _room_frees_at(count - limit, now))


async def receipt_waits(request_id: int, limit: int, now: datetime | None = None) -> bool:
    """Is this request's receipt held back by the budget (for the success page)? Yes if it
    has not gone and the room left is taken by the messages queued before it."""
    now = now or utcnow()
    receipt = (
        await SmsMessage.select(SmsMessage.id)
        .where(
            SmsMessage.request == request_id,
            SmsMessage.purpose == SmsPurpose.receipt,
            SmsMessage.state == SmsState.queued,
        )
        .first()
    )
    if receipt is None:
        return False
    ahead = await SmsMessage.count().where(
        SmsMessage.next_attempt_at.is_not_null(),
        SmsMessage.state == SmsState.queued,
        SmsMessage.purpose != SmsPurpose.otp,
        SmsMessage.id < receipt["id"],
    )
    return int(ahead) >= limit - await used(now)
