"""The daily SMS budgets: each office's own (``OfficeRef.sms_daily_budget``, by default
PORTAL_SMS_DAILY_LIMIT) and the platform's optional ceiling across all offices
(PORTAL_SMS_PLATFORM_DAILY_LIMIT, 0: none). What counts against them, who waits for room.

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

An office counts its own messages only: office B's full budget never holds office A's SMS,
and the dispatcher claims office by office, never handing an office more than its budget (nor
the platform more than its ceiling) in 24 hours.

Counting and the claims that raise the count happen under one lock per office
(``sms-budget:<office id>``, an advisory lock on PostgreSQL; the write lock on SQLite), shared
by code issuance and by every dispatcher of every process, so together they never pass the
office's limit; offices do not queue behind each other. With a platform ceiling, the platform's
lock (``sms-budget``) is taken too, always after the office's, so the order never deadlocks.
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
from portal.kernel.offices import OfficeRef
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
PLATFORM: None = None
"""``office_id`` of a count across every office (the platform's ceiling)."""


def _of(office_id: int | None) -> Combinable | None:
    return None if office_id is None else SmsMessage.office == office_id


def _and(condition: Combinable, office_id: int | None) -> Combinable:
    office = _of(office_id)
    return condition if office is None else condition & office


def _handed_over(now: datetime, office_id: int | None) -> Combinable:
    """Taken by a gateway in the window. ``created_at`` bounds the index range: nothing is sent
    later than ``LONGEST_WAIT`` (plus a send's deadline) after it was written."""
    since = now - WINDOW
    earliest = since - LONGEST_WAIT - SEND_SLACK
    return _and((SmsMessage.created_at > earliest) & (SmsMessage.sent_at > since), office_id)


def _pending(now: datetime, office_id: int | None) -> Combinable:
    """Not yet handed over but already counted: being sent, or a code admitted and alive."""
    unsettled = SmsMessage.next_attempt_at.is_not_null()  # indexed; settled rows have none
    in_flight = SmsMessage.state == SmsState.sending
    admitted_code = (
        (SmsMessage.state == SmsState.queued)
        & (SmsMessage.purpose == SmsPurpose.otp)
        & (SmsMessage.expires_at > now)
    )
    return _and(unsettled & (in_flight | admitted_code), office_id)


def _not_handed_over(now: datetime) -> Combinable:
    """Exactly the rows ``_handed_over`` leaves out, so the two counts never overlap."""
    since = now - WINDOW
    earliest = since - LONGEST_WAIT - SEND_SLACK
    return (
        (SmsMessage.created_at <= earliest)
        | SmsMessage.sent_at.is_null()
        | (SmsMessage.sent_at <= since)
    )


async def used(now: datetime, *, office_id: int | None) -> int:
    """Messages counted in the window: ``office_id``'s, or (``PLATFORM``) every office's.

    Two counts added, not one count of "handed over OR pending": with the OR, SQLite reads
    every row of the office; apart, the first reads the window through the (office,
    created_at) index and the second the few unsettled rows through ``next_attempt_at``'s."""
    handed_over = await SmsMessage.count().where(_handed_over(now, office_id))
    pending = await SmsMessage.count().where(_pending(now, office_id) & _not_handed_over(now))
    return int(handed_over) + int(pending)


async def _room_frees_at(over: int, now: datetime, office_id: int | None) -> datetime:
    """When the count falls below the limit: ``over`` (used minus limit, at least 0) more
    counted messages must leave the window first, oldest first. With fewer sent messages than
    that in the window (a lowered limit, everything in flight), a whole window from now."""
    row = (
        await SmsMessage.select(SmsMessage.sent_at)
        .where(_handed_over(now, office_id))
        .order_by(SmsMessage.sent_at)
        .offset(max(0, over))
        .first()
    )
    if row is None:
        return now + WINDOW
    sent_at: datetime = row["sent_at"]
    return max(now, sent_at + WINDOW)


def lock_name(office_id: int | None) -> str:
    """The office's budget lock, or (``PLATFORM``) the platform ceiling's."""
    return LOCK if office_id is None else f"{LOCK}:{office_id}"


async def _lock(office_id: int | None) -> None:
    """Serialise with every other budget decision until the caller's transaction ends (on
    SQLite the caller's IMMEDIATE transaction already holds the only write lock)."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        key = zlib.crc32(lock_name(office_id).encode())
        await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock({})", key))


@dataclass(frozen=True)
class _Room:
    left: int
    """Messages that may still be counted now (0 when full)."""
    used: int
    limit: int
    office_id: int | None


async def _rooms(now: datetime, office: OfficeRef, platform_limit: int) -> list[_Room]:
    """The office's room, then the platform's if it has a ceiling: the locks in that order."""
    limits: list[tuple[int | None, int]] = [(office.id, office.sms_daily_budget)]
    if platform_limit > 0:
        limits.append((PLATFORM, platform_limit))
    rooms = []
    for office_id, limit in limits:
        await _lock(office_id)
        count = await used(now, office_id=office_id)
        rooms.append(_Room(max(0, limit - count), count, limit, office_id))
    return rooms


async def _frees_at(rooms: list[_Room], spending: int, now: datetime) -> datetime:
    """When every budget that ``spending`` more messages fill has room again."""
    frees = [
        await _room_frees_at(room.used + spending - room.limit, now, room.office_id)
        for room in rooms
        if spending >= room.left
    ]
    return max(frees, default=now)


async def wait_for_code(
    now: datetime, *, office: OfficeRef, platform_limit: int = 0
) -> timedelta | None:
    """None if a code may be sent now at ``office``; else how long until room frees (in its
    budget and the platform's). Call it in the transaction that writes the code's message:
    the locks hold until that commits."""
    rooms = await _rooms(now, office, platform_limit)
    if all(room.left > 0 for room in rooms):
        return None
    return await _frees_at(rooms, 0, now) - now


async def claim(
    now: datetime,
    lease_until: datetime,
    batch: int,
    *,
    office: OfficeRef,
    platform_limit: int = 0,
) -> list[ClaimedSms]:
    """The dispatcher's claim for one office: every due counted message (codes first), then
    uncounted ones, oldest first, into the room left in the office's budget (and the
    platform's); if that fills a budget, the office's rest wait for room."""
    async with write_transaction(serialize=lock_name(office.id)):
        counted = await queue.claim_due(now, lease_until, batch, Due.counted, office_id=office.id)
        rooms = await _rooms(now, office, platform_limit)
        room = min(r.left for r in rooms)
        spending = await queue.claim_due(
            now, lease_until, min(room, batch - len(counted)), Due.uncounted, office_id=office.id
        )
        if len(spending) >= room:
            await _hold_back(now, await _frees_at(rooms, len(spending), now), office.id)
    return counted + spending


async def release(now: datetime, *, office: OfficeRef, platform_limit: int = 0) -> int:
    """Bring ``office``'s held-back messages forward when room came early: the limit was
    raised (the banner tells staff to), or messages counted as in flight failed before a
    gateway took them. The dispatcher calls it now and then (``RELEASE_EVERY``); returns how
    many are due now."""
    held_back = (
        SmsMessage.next_attempt_at > now,  # indexed: only messages waiting for a later time
        SmsMessage.state == SmsState.queued,
        SmsMessage.last_error == WAITING_NOTE,
        SmsMessage.office == office.id,
    )
    if not await SmsMessage.exists().where(*held_back):
        return 0  # a read: an idle dispatcher does not take SQLite's write lock for nothing
    async with write_transaction(serialize=lock_name(office.id)):
        room = min(r.left for r in await _rooms(now, office, platform_limit))
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


async def offices_held_back(now: datetime) -> list[int]:
    """The offices with messages waiting for room (the dispatcher releases each)."""
    rows = (
        await SmsMessage.select(SmsMessage.office)
        .where(
            SmsMessage.next_attempt_at > now,
            SmsMessage.state == SmsState.queued,
            SmsMessage.last_error == WAITING_NOTE,
        )
        .distinct()
        .order_by(SmsMessage.office)
    )
    return [int(row["office"]) for row in rows]


async def _hold_back(now: datetime, until: datetime, office_id: int) -> None:
    """Move the office's due uncounted messages to ``until``; one that cannot go before the
    end of its life (``LONGEST_WAIT``) waits for its expiry instead, where ``fail_expired``
    settles it."""
    rows = await SmsMessage.select(
        SmsMessage.id, SmsMessage.created_at, SmsMessage.expires_at
    ).where(
        SmsMessage.next_attempt_at <= now,
        SmsMessage.state == SmsState.queued,
        SmsMessage.purpose != SmsPurpose.otp,
        SmsMessage.expires_at > now,
        SmsMessage.office == office_id,
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
        return self.limit > 0 and self.used >= self.limit


async def status(*, office: OfficeRef, now: datetime | None = None) -> BudgetStatus:
    """``office``'s budget (the admin's SMS page, the banner, the inbox's warning)."""
    now = now or utcnow()
    limit = office.sms_daily_budget
    count = await used(now, office_id=office.id)
    if count < limit:
        return BudgetStatus(count, limit)
    waiting = await SmsMessage.count().where(
        SmsMessage.next_attempt_at.is_not_null(),
        SmsMessage.state == SmsState.queued,
        SmsMessage.purpose != SmsPurpose.otp,
        SmsMessage.office == office.id,
    )
    room_at = await _room_frees_at(count - limit, now, office.id)
    return BudgetStatus(count, limit, int(waiting), room_at)


async def receipt_waits(request_id: int, *, office: OfficeRef, now: datetime | None = None) -> bool:
    """Is this request's receipt held back by ``office``'s budget (for the success page)? Yes
    if it has not gone and the room left is taken by the office's messages queued before it."""
    now = now or utcnow()
    receipt = (
        await SmsMessage.select(SmsMessage.id)
        .where(
            SmsMessage.request == request_id,
            SmsMessage.office == office.id,
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
        SmsMessage.office == office.id,
        SmsMessage.id < receipt["id"],
    )
    return int(ahead) >= office.sms_daily_budget - await used(now, office_id=office.id)
