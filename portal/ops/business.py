"""The portal's own figures for ``/metrics``, read from the database at each scrape.

Read, not counted in memory: every ``portal serve`` worker and ``portal sms worker`` writes the
same tables, so one read is true for all of them and survives restarts.

- ``portal_filings_total{service}``: requests filed, by service slug. A counter: requests are
  never deleted (``portal purge`` anonymises them and keeps the row).
- ``portal_otp_codes_24h{outcome}``: over the last 24 hours, codes ``sent`` (an SMS was
  written for it; the tracking lookup's never-sent stand-ins are left out), ``verified`` (a
  correct code entered) and ``failed`` (wrong codes entered). A rolling window, not a total:
  ``portal purge`` deletes code rows after two days.
- ``portal_sms_messages{state,backend}``: SMS rows by state (``queued`` waiting for a first
  try, ``retrying`` queued again after a failed try, ``sending``, ``sent``, ``delivered``,
  ``failed``, ``suppressed``) and the backend they were written for.
- ``portal_sms_queue_oldest_due_seconds``: how long the longest-due queued SMS has waited past
  its time (0 when none waits); over 600 is what ``/readyz`` calls stuck.
- ``portal_sms_budget_used`` / ``portal_sms_budget_limit``: the rolling day's SMS of every
  office, and the platform's ceiling (``PORTAL_SMS_PLATFORM_DAILY_LIMIT``; without one, the
  sum of every active office's own budget).
- ``portal_offices{state}``: offices ``active`` and ``disabled``.
- ``portal_sms_gateway_failing`` / ``portal_sms_on_fallback``: 1 or 0 (``portal.sms.health``).
- ``portal_database_up``: 1 if this scrape read the figures above, else 0 (and they are left
  out of the scrape rather than shown as zeros).

No figure carries a phone number, a name or a request number: labels are services, states,
backends and outcomes only. Every figure is the platform's total over all offices (no office
label: a thousand offices would multiply every series a thousandfold); an office's own
figures are on its staff SMS page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta

from piccolo.query.functions.aggregate import Count, Sum
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeDirectory
from portal.settings import Settings
from portal.sms.health import sms_health
from portal.tables.citizen_request import CitizenRequest
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.service import Service
from portal.tables.sms_message import SmsMessage, SmsPurpose, SmsState

TIMEOUT = 5.0
"""Seconds the scrape's database reads may take before the scrape answers without them."""
WINDOW = timedelta(hours=24)

logger = logging.getLogger("portal")


async def _filings() -> list[Metric]:
    """Every office's filings added up by service slug: the same standard form has the same
    slug in every office that adopted it, and a label per office would multiply the series by
    the number of offices (a thousand)."""
    slugs = {row["id"]: row["slug"] for row in await Service.select(Service.id, Service.slug)}
    rows = await CitizenRequest.select(CitizenRequest.service, Count()).group_by(
        CitizenRequest.service
    )
    totals: dict[str, int] = {}
    for row in rows:
        slug = str(slugs.get(row["service"], row["service"]))
        totals[slug] = totals.get(slug, 0) + int(row["count"])
    family = CounterMetricFamily(
        "portal_filings", "Requests filed, by service (all offices).", labels=("service",)
    )
    for slug, count in sorted(totals.items()):
        family.add_metric((slug,), count)
    return [family]


async def _offices(settings: Settings) -> tuple[list[Metric], int]:
    """How many offices are active and disabled, and the day's SMS capacity: the platform's
    ceiling (PORTAL_SMS_PLATFORM_DAILY_LIMIT) or, without one, every active office's budget."""
    offices = await OfficeDirectory(settings).all()
    family = GaugeMetricFamily("portal_offices", "Offices by state.", labels=("state",))
    family.add_metric(("active",), sum(1 for office in offices if office.active))
    family.add_metric(("disabled",), sum(1 for office in offices if not office.active))
    limit = settings.sms_platform_daily_budget or sum(
        office.sms_daily_budget for office in offices if office.active
    )
    return [family], limit


async def _otp() -> list[Metric]:
    since = utcnow() - WINDOW
    sent = await SmsMessage.count().where(
        SmsMessage.purpose == SmsPurpose.otp,
        SmsMessage.created_at > since,
        SmsMessage.state != SmsState.suppressed,
    )
    verified = await OtpChallenge.count().where(OtpChallenge.used_at > since)
    wrong = await OtpChallenge.select(Sum(OtpChallenge.failed_attempts)).where(
        OtpChallenge.created_at > since
    )
    family = GaugeMetricFamily(
        "portal_otp_codes_24h",
        "OTP codes in the last 24 hours: sent, verified, failed (wrong codes entered).",
        labels=("outcome",),
    )
    family.add_metric(("sent",), int(sent))
    family.add_metric(("verified",), int(verified))
    family.add_metric(("failed",), int((wrong[0]["sum"] if wrong else 0) or 0))
    return [family]


async def _sms(settings: Settings) -> list[Metric]:
    by_state = await SmsMessage.select(SmsMessage.state, SmsMessage.backend, Count()).group_by(
        SmsMessage.state, SmsMessage.backend
    )
    retrying = await (
        SmsMessage.select(SmsMessage.backend, Count())
        .where(SmsMessage.state == SmsState.queued, SmsMessage.attempts > 0)
        .group_by(SmsMessage.backend)
    )
    counts: dict[tuple[str, str], int] = {}
    for row in by_state:
        counts[(str(row["state"]), str(row["backend"]))] = int(row["count"])
    for row in retrying:
        backend, again = str(row["backend"]), int(row["count"])
        counts[(SmsState.queued.value, backend)] -= again
        counts[("retrying", backend)] = again
    messages = GaugeMetricFamily(
        "portal_sms_messages", "SMS messages by state and backend.", labels=("state", "backend")
    )
    for (state, backend), count in sorted(counts.items()):
        messages.add_metric((state, backend), count)

    offices, limit = await _offices(settings)
    # The platform's view: every office's messages (per-office budgets are on each office's
    # SMS page; a label per office would multiply the series by the number of offices).
    health = await sms_health(office=None, platform_limit=limit)
    age = health.oldest_due_age.total_seconds() if health.oldest_due_age is not None else 0.0
    return [
        *offices,
        messages,
        GaugeMetricFamily(
            "portal_sms_queue_oldest_due_seconds",
            "How long the longest-due queued SMS has waited past its time.",
            value=age,
        ),
        GaugeMetricFamily(
            "portal_sms_budget_used",
            "SMS of every office counted against the rolling day's budget.",
            value=health.budget_used,
        ),
        GaugeMetricFamily(
            "portal_sms_budget_limit",
            "The day's SMS capacity: the platform's limit, else every active office's budget.",
            value=health.budget_limit,
        ),
        GaugeMetricFamily(
            "portal_sms_gateway_failing",
            "1 when the last 20 tried SMS all failed.",
            value=int(health.failing),
        ),
        GaugeMetricFamily(
            "portal_sms_on_fallback",
            "1 when the fallback gateway has taken over.",
            value=int(health.on_fallback),
        ),
    ]


async def _read(settings: Settings) -> list[Metric]:
    return [*await _filings(), *await _otp(), *await _sms(settings)]


async def collect(settings: Settings) -> Iterable[Metric]:
    """The business families, and ``portal_database_up`` saying whether they could be read."""
    try:
        families = await asyncio.wait_for(_read(settings), TIMEOUT)
        up = 1
    except Exception as error:  # the scrape still answers, with the HTTP figures
        logger.warning("metrics: database figures not read (%s)", type(error).__name__)
        families, up = [], 0
    families.append(
        GaugeMetricFamily(
            "portal_database_up", "1 if this scrape could read the database.", value=up
        )
    )
    return families
