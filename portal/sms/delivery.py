"""Delivery reports: a gateway says a message reached the phone, or never will.

Only a ``sent`` message moves (to ``delivered`` or ``failed``): a report for a message we do
not know, a repeat, or one that arrives out of order changes nothing. A message a report calls
failed is not sent again: the gateway took it once, and a second copy could be a duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from portal.sms.providers.base import DeliveryReport, ReportState
from portal.tables.sms_message import SmsMessage, SmsState

logger = logging.getLogger("portal.sms")


async def apply_reports(backend: str, reports: Iterable[DeliveryReport], now: datetime) -> int:
    """Record reports from ``backend``; returns how many messages changed state."""
    changed = 0
    for report in reports:
        if report.state is None:
            continue
        if "\x00" in report.provider_message_id:
            # No id we sent has one, and PostgreSQL refuses NUL in text with an error (a 500
            # schemathesis found): a report for it matches nothing, like any unknown id.
            logger.info("delivery report from %s with a NUL in its id ignored", backend)
            continue
        values: dict[Any, Any]
        if report.state is ReportState.delivered:
            values = {SmsMessage.state: SmsState.delivered, SmsMessage.delivered_at: now}
        else:
            error = report.error.replace("\x00", "") or "reported undelivered"
            values = {
                SmsMessage.state: SmsState.failed,
                SmsMessage.failed_at: now,
                SmsMessage.last_error: error[:500],
            }
        rows = (
            await SmsMessage.update(values)
            .where(
                SmsMessage.backend == backend,
                SmsMessage.provider_message_id == report.provider_message_id,
                SmsMessage.state == SmsState.sent,
            )
            .returning(SmsMessage.id)
        )
        if rows:
            changed += len(rows)
        else:
            logger.info("delivery report from %s matched no sent message", backend)
    return changed
