"""Time in one place: UTC inside, Thai (Asia/Bangkok, Buddhist era) only when shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")
BUDDHIST_ERA_OFFSET = 543


def utcnow() -> datetime:
    return datetime.now(UTC)


def buddhist_year(moment: datetime) -> int:
    return moment.astimezone(BANGKOK).year + BUDDHIST_ERA_OFFSET
