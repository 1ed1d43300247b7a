"""A second SMS gateway (PORTAL_SMS_FALLBACK_BACKEND) that takes over when the first fails.

When the primary gateway's credit runs out or it goes down, no citizen gets a code and nobody
can file. So the dispatcher counts the primary's consecutive failures (timeouts, 5xx, refused
credentials: the answers worth retrying; a message refused for good says nothing about the
gateway) and switches:

- to the fallback after ``FAILURES_TO_SWITCH`` in a row, or at once when the gateway says the
  account has no credit left (``SendResult.no_credit``); the message that tripped the switch,
  and any failing beside it, go through the fallback straight away;
- back to the primary when it works again: while on the fallback, one message every
  ``PROBE_EVERY`` tries the primary first (and the fallback at once if that fails).

The state is one row of ``sms_gateway_state``, so every process that dispatches (web workers,
``portal sms worker``) switches together; each switch is written with a conditional UPDATE, so
exactly one process records it (a log line and an ``sms_gateway_switched`` audit event).
Admins see it in the back office's banner and on the SMS page (``portal/sms/health.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.kernel import audit
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.sms_gateway_state import SmsGatewayState

logger = logging.getLogger("portal.sms")

PRIMARY = "primary"
FALLBACK = "fallback"
KEY = "gateway"
FAILURES_TO_SWITCH = 5
PROBE_EVERY = timedelta(minutes=10)
AUDIT_ACTOR = "sms-dispatcher"
AUDIT_ACTION = "sms_gateway_switched"


@dataclass(frozen=True)
class GatewayState:
    active: str
    primary_failures: int = 0
    switched_at: datetime | None = None
    probe_at: datetime | None = None
    reason: str = ""


async def state() -> GatewayState:
    """The shared state; the primary with no failures when nothing was ever recorded."""
    row = (
        await SmsGatewayState.select(
            SmsGatewayState.active,
            SmsGatewayState.primary_failures,
            SmsGatewayState.switched_at,
            SmsGatewayState.probe_at,
            SmsGatewayState.reason,
        )
        .where(SmsGatewayState.name == KEY)
        .first()
    )
    if row is None:
        return GatewayState(PRIMARY)
    return GatewayState(
        row["active"], row["primary_failures"], row["switched_at"], row["probe_at"], row["reason"]
    )


async def active() -> str:
    return (await state()).active


async def _ensure_row() -> None:
    if not await SmsGatewayState.exists().where(SmsGatewayState.name == KEY):
        await SmsGatewayState.insert(SmsGatewayState(name=KEY, active=PRIMARY)).on_conflict(
            action="DO NOTHING"
        )


async def reset() -> None:
    """Back to the primary for good: the fallback was taken out of the settings."""
    await SmsGatewayState.update(
        {SmsGatewayState.active: PRIMARY, SmsGatewayState.primary_failures: 0}
    ).where(SmsGatewayState.name == KEY, SmsGatewayState.active != PRIMARY)


@dataclass(frozen=True)
class Route:
    """How one dispatcher turn sends: through the fallback or not, and whether one of its
    messages tries the primary first (the probe)."""

    fallback: bool
    probe: bool = False
    primary_failures: int = 0
    """As read: a send through the primary that works clears them only if there are any."""


async def route(now: datetime) -> Route:
    """Read once per turn. On the fallback, the first turn past ``probe_at`` takes the probe
    (a conditional UPDATE: one process, one message)."""
    current = await state()
    if current.active != FALLBACK:
        return Route(fallback=False, primary_failures=current.primary_failures)
    if current.probe_at is not None and current.probe_at > now:
        return Route(fallback=True)
    taken = (
        await SmsGatewayState.update({SmsGatewayState.probe_at: now + PROBE_EVERY})
        .where(
            SmsGatewayState.name == KEY,
            SmsGatewayState.active == FALLBACK,
            (SmsGatewayState.probe_at <= now) | SmsGatewayState.probe_at.is_null(),
        )
        .returning(SmsGatewayState.id)
    )
    return Route(fallback=True, probe=bool(taken))


async def primary_worked(now: datetime, *, backends: tuple[str, str]) -> None:
    """The primary took a message: clear its failures; after a probe, switch back."""
    switched = (
        await SmsGatewayState.update(
            {
                SmsGatewayState.active: PRIMARY,
                SmsGatewayState.primary_failures: 0,
                SmsGatewayState.switched_at: now,
                SmsGatewayState.probe_at: None,
            }
        )
        .where(SmsGatewayState.name == KEY, SmsGatewayState.active == FALLBACK)
        .returning(SmsGatewayState.id)
    )
    if switched:
        await _announce(backends[1], backends[0], "primary gateway works again")
        return
    await SmsGatewayState.update({SmsGatewayState.primary_failures: 0}).where(
        SmsGatewayState.name == KEY, SmsGatewayState.primary_failures > 0
    )


async def primary_failed(
    now: datetime, *, error: str, no_credit: bool, backends: tuple[str, str]
) -> bool:
    """Count one failure of the primary; True if the fallback sends from now on."""
    await _ensure_row()
    rows = (
        await SmsGatewayState.update(
            {SmsGatewayState.primary_failures: SmsGatewayState.primary_failures + 1}
        )
        .where(SmsGatewayState.name == KEY)
        .returning(SmsGatewayState.primary_failures, SmsGatewayState.active)
    )
    if not rows:
        return False
    if rows[0]["active"] == FALLBACK:
        return True  # a failed probe: stay on the fallback
    if not no_credit and int(rows[0]["primary_failures"]) < FAILURES_TO_SWITCH:
        return False
    reason = ("no credit: " if no_credit else "") + error
    switched = (
        await SmsGatewayState.update(
            {
                SmsGatewayState.active: FALLBACK,
                SmsGatewayState.switched_at: now,
                SmsGatewayState.probe_at: now + PROBE_EVERY,
                SmsGatewayState.reason: reason[:500],
            }
        )
        .where(SmsGatewayState.name == KEY, SmsGatewayState.active == PRIMARY)
        .returning(SmsGatewayState.id)
    )
    if switched:
        await _announce(backends[0], backends[1], reason)
    return True


async def _announce(from_backend: str, to_backend: str, reason: str) -> None:
    logger.warning("SMS gateway switched from %s to %s: %s", from_backend, to_backend, reason)
    # The gateway is the platform's: its switches are the platform's (the default office's)
    # audit trail, never an office's that happened to have a message in flight.
    await audit.record(
        office_id=DEFAULT_OFFICE_ID,
        actor=AUDIT_ACTOR,
        action=AUDIT_ACTION,
        details={"from": from_backend, "to": to_backend, "reason": reason[:200]},
    )
