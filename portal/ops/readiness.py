"""``/readyz``: may this process take citizens' requests right now?

Three checks, each asked afresh on every probe (nothing is cached: a stopped database must
never look healthy because it answered a second ago):

- ``database``: a read of the migration table answers within ``TIMEOUT`` (one second);
- ``migrations``: the database has every migration this release ships
  (``portal.db.pending_migrations``): a new release started before ``portal migrate`` is not
  ready;
- ``sms_queue``: no queued SMS has waited past its time for over ten minutes without a
  dispatcher taking it (``portal.sms.health``): codes would not arrive. The development
  ``outbox`` backend sends nothing and has no queue: ``"not used"``.

The answer names each check's state in a word and nothing else: no exception text (it can
hold a host name or a query's values), no counts, no personal data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from piccolo.apps.migrations.tables import Migration

from portal.db import pending_migrations
from portal.settings import Settings
from portal.sms.health import sms_health

TIMEOUT = 1.0
"""Seconds each check may take: a database slower than this is not ready for citizens."""
OK = "ok"
UNAVAILABLE = "unavailable"
UNKNOWN = "unknown"
PENDING = "pending"
STUCK = "stuck"
NOT_USED = "not used"

logger = logging.getLogger("portal")
T = TypeVar("T")


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(state in (OK, NOT_USED) for state in self.checks.values())

    def body(self) -> dict[str, object]:
        return {"status": "ok" if self.ready else "unavailable", "checks": self.checks}


class _Failed(Exception):
    """A check that raised or took too long (logged once, by name, without the details)."""


async def _within(name: str, work: Awaitable[T]) -> T:
    try:
        return await asyncio.wait_for(work, TIMEOUT)
    except Exception as error:  # any failure of the check is "not ready", never a 500
        logger.warning("readiness: %s check failed (%s)", name, type(error).__name__)
        raise _Failed(name) from error


async def _database() -> None:
    await Migration.select(Migration.name).limit(1)


async def check(settings: Settings) -> Readiness:
    checks = {"database": UNKNOWN, "migrations": UNKNOWN, "sms_queue": UNKNOWN}
    try:
        await _within("database", _database())
        checks["database"] = OK
        pending = await _within("migrations", pending_migrations())
        checks["migrations"] = PENDING if pending else OK
    except _Failed as failed:
        checks[str(failed)] = UNAVAILABLE
        return Readiness(checks)
    if settings.sms_backend == "outbox":
        checks["sms_queue"] = NOT_USED
        return Readiness(checks)
    try:
        # The platform's queue (every office's SMS go through one dispatcher).
        health = await _within(
            "sms_queue",
            sms_health(office=None, platform_limit=settings.sms_platform_daily_budget),
        )
    except _Failed:
        checks["sms_queue"] = UNAVAILABLE
    else:
        checks["sms_queue"] = STUCK if health.stuck else OK
    return Readiness(checks)
