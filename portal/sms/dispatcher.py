"""The dispatcher: sends queued SMS through the configured gateway, retrying until they go.

Each turn it fails what expired, claims a batch of due messages within the daily budget
(``portal/sms/budget.py``: codes always, other messages only into the room left, the rest
waiting for the rolling window) and sends them side by side. What becomes of a message:

- accepted by the gateway: ``sent`` (an OTP's text is blanked: the code has left);
- refused for good (a bad number, a 4xx the gateway will never take): ``failed``;
- not taken this time (timeout, refused connection, 5xx, 429): back to ``queued`` after an
  exponential backoff with jitter, until its ``expires_at`` (an OTP: its code's expiry; other
  messages: four hours after they were written), and then ``failed``, never sent late.

With a second gateway (PORTAL_SMS_FALLBACK_BACKEND) each turn asks ``portal/sms/failover.py``
which one sends; a message the primary fails while the fallback takes over is handed to the
fallback in the same turn. Each message records the gateway that last tried it (``backend``).

Every wait is bounded: the HTTP client has connect and read timeouts, and each send has a hard
deadline well inside the claim's lease, so no message is stuck behind a hung gateway.

Each turn claims office by office (each within its own budget, ``OfficeRef.sms_daily_budget``,
and the platform's ceiling), starting after the office served first last turn, so one busy
office cannot keep the others' messages waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.phone import PhoneError, parse_thai_mobile
from portal.sms import budget, failover, queue
from portal.sms.failover import Route
from portal.sms.providers.base import Outcome, OutgoingSms, SendResult, SmsProvider
from portal.sms.queue import ClaimedSms

logger = logging.getLogger("portal.sms")


@dataclass(frozen=True)
class SmsTiming:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    poll_interval: float = 1.0
    """How long an idle dispatcher waits before looking for due messages again."""
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 20

    @property
    def send_deadline(self) -> float:
        """Hard limit on one send: both timeouts plus slack, and never past half the lease."""
        slack = self.connect_timeout + 2 * self.read_timeout + 1
        return min(slack, self.lease.total_seconds() / 2)


def retry_delay(attempts: int, timing: SmsTiming) -> float:
    """Seconds before the next try after ``attempts`` tries: doubling, capped, with jitter.

    "Equal jitter": between half and all of the doubled delay, so many messages that failed
    together (a gateway outage) do not all come back in the same second, and none retries at
    once.
    """
    ceiling: float = min(
        timing.backoff_cap, timing.backoff_base * 2.0 ** min(30, max(0, attempts - 1))
    )
    return ceiling / 2 + ceiling / 2 * (secrets.randbelow(1001) / 1000)


def _thai_mobile(phone: str) -> bool:
    try:
        return parse_thai_mobile(phone).e164 == phone
    except PhoneError:
        return False


class OfficeLookup(Protocol):
    """Where the dispatcher finds each office's budget (``OfficeDirectory(settings)``)."""

    async def by_id(self, office_id: int) -> OfficeRef | None: ...


def _rotated(office_ids: list[int], after: int) -> list[int]:
    """``office_ids`` (ascending) starting with the first after ``after``, then wrapping."""
    later = [office_id for office_id in office_ids if office_id > after]
    return later + [office_id for office_id in office_ids if office_id <= after]


class Dispatcher:
    def __init__(
        self,
        provider: SmsProvider,
        timing: SmsTiming | None = None,
        *,
        offices: OfficeLookup,
        platform_limit: int = 0,
        fallback: SmsProvider | None = None,
    ) -> None:
        self.provider = provider
        self.fallback = fallback
        """PORTAL_SMS_FALLBACK_BACKEND's gateway, or None."""
        self._checked_state = False
        self.timing = timing or SmsTiming()
        self.offices = offices
        """Each office's daily budget (``sms_daily_budget``, by default PORTAL_SMS_DAILY_LIMIT)."""
        self.platform_limit = platform_limit
        """PORTAL_SMS_PLATFORM_DAILY_LIMIT: all offices together in 24 hours; 0: no ceiling."""
        self._release_at: datetime | None = None
        self._served_first = 0

    async def run_once(self) -> int:
        """One turn: fail the expired, claim a batch, send it. Returns how many were claimed."""
        now = utcnow()
        if self._release_at is None or now >= self._release_at:
            # At start (a raised limit) and now and then: held-back messages with room now.
            self._release_at = now + budget.RELEASE_EVERY
            await self._release(now)
        if not await queue.has_work(now):
            return 0
        expired = await queue.fail_expired(now)
        if expired:
            logger.warning("%d SMS expired before they could be sent", expired)
        claimed = await self._claim(now)
        if claimed:
            route = await self._route(now)
            probe = claimed[0].id if route.probe else None
            await asyncio.gather(
                *(self._deliver(message, route, probe=message.id == probe) for message in claimed)
            )
        return len(claimed)

    async def _release(self, now: datetime) -> None:
        for office_id in await budget.offices_held_back(now):
            office = await self.offices.by_id(office_id)
            if office is not None:
                await budget.release(now, office=office, platform_limit=self.platform_limit)

    async def _claim(self, now: datetime) -> list[ClaimedSms]:
        """This turn's batch, office by office, each within its budget."""
        claimed: list[ClaimedSms] = []
        due = await queue.offices_due(now)
        for office_id in _rotated(due, self._served_first):
            room = self.timing.batch_size - len(claimed)
            if room <= 0:
                break
            office = await self.offices.by_id(office_id)
            if office is None:
                continue
            taken = await budget.claim(
                now,
                now + self.timing.lease,
                room,
                office=office,
                platform_limit=self.platform_limit,
            )
            if taken and not claimed:
                self._served_first = office_id
            claimed += taken
        return claimed

    async def _route(self, now: datetime) -> Route:
        """Which gateway this turn's messages go through (read once per turn with work)."""
        if self.fallback is None:
            if not self._checked_state:  # the fallback was taken out of the settings
                self._checked_state = True
                await failover.reset()
            return Route(fallback=False)
        return await failover.route(now)

    async def run_until_idle(self, max_turns: int = 1000) -> int:
        """Send everything due now (not what waits for a later retry). Returns the count."""
        total = 0
        for _ in range(max_turns):
            claimed = await self.run_once()
            if not claimed:
                break
            total += claimed
        return total

    async def run(self, stop: asyncio.Event) -> None:
        """Turn until ``stop`` is set; a failing turn (database away) is logged, not fatal."""
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception:
                logger.exception("SMS dispatcher turn failed; trying again shortly")
                claimed = 0
            if claimed < self.timing.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.timing.poll_interval)

    async def _send(self, claimed: ClaimedSms, provider: SmsProvider) -> SendResult:
        message = OutgoingSms(claimed.id, claimed.to_phone, claimed.sender, claimed.text)
        try:
            return await asyncio.wait_for(provider.send(message), timeout=self.timing.send_deadline)
        except TimeoutError:
            return SendResult(Outcome.retry, error="timeout: no answer within the send deadline")
        except Exception as error:  # a bug in a provider must not lose the message
            logger.exception("SMS provider %s raised", provider.name)
            return SendResult(Outcome.retry, error=f"provider error: {type(error).__name__}")

    async def _send_with_failover(
        self, claimed: ClaimedSms, route: Route, *, probe: bool
    ) -> tuple[SmsProvider, SendResult]:
        """The primary unless the fallback has taken over (then only the probe tries it); a
        retryable failure of the primary is counted, and when that (or an earlier failure)
        puts the fallback in charge the message goes through the fallback at once. Both sends
        together stay inside the claim's lease (each is at most half of it)."""
        fallback = self.fallback
        if fallback is None:
            return self.provider, await self._send(claimed, self.provider)
        if route.fallback and not probe:
            return fallback, await self._send(claimed, fallback)
        result = await self._send(claimed, self.provider)
        now = utcnow()
        names = (self.provider.name, fallback.name)
        if result.outcome is Outcome.accepted:
            if probe or route.primary_failures:
                await failover.primary_worked(now, backends=names)
            return self.provider, result
        if result.outcome is Outcome.rejected:
            return self.provider, result  # this message's fault, not the gateway's
        if not await failover.primary_failed(
            now, error=result.error, no_credit=result.no_credit, backends=names
        ):
            return self.provider, result
        logger.info(
            "SMS %d: %s failed (%s); sending through %s",
            claimed.id,
            self.provider.name,
            result.error,
            fallback.name,
        )
        return fallback, await self._send(claimed, fallback)

    async def _deliver(
        self, claimed: ClaimedSms, route: Route | None = None, *, probe: bool = False
    ) -> None:
        if claimed.expires_at <= utcnow():
            expired = "expired before it could be sent"
            await queue.record_failed(claimed, error=expired, now=utcnow())
            return
        if not _thai_mobile(claimed.to_phone):
            # Abuse guard at the sending edge: whatever wrote the row, only Thai mobiles.
            await queue.record_failed(claimed, error="not a Thai mobile number", now=utcnow())
            return
        provider, result = await self._send_with_failover(
            claimed, route or Route(fallback=False), probe=probe
        )
        now = utcnow()
        if result.outcome is Outcome.accepted:
            await queue.record_sent(
                claimed,
                backend=provider.name,
                provider_message_id=result.provider_message_id,
                now=now,
            )
        elif result.outcome is Outcome.retry:
            await self._retry_or_give_up(claimed, result, now, provider.name)
        else:
            logger.warning("SMS %d refused by %s: %s", claimed.id, provider.name, result.error)
            await queue.record_failed(claimed, error=result.error, now=now, backend=provider.name)

    async def _retry_or_give_up(
        self, claimed: ClaimedSms, result: SendResult, now: datetime, backend: str
    ) -> None:
        next_attempt_at = now + timedelta(seconds=retry_delay(claimed.attempts, self.timing))
        if next_attempt_at >= claimed.expires_at:
            logger.warning("SMS %d given up after %d tries", claimed.id, claimed.attempts)
            error = f"gave up after {claimed.attempts} tries: {result.error}"
            await queue.record_failed(claimed, error=error, now=now, backend=backend)
            return
        await queue.record_retry(
            claimed, error=result.error, next_attempt_at=next_attempt_at, backend=backend
        )
