"""The ``outbox`` provider: the row is the delivery, for developers (``portal sms outbox``).

``enqueue`` writes outbox messages straight as sent, so the dispatcher never runs for this
backend; the provider exists so that every backend answers the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.sms.providers.base import (
    CredentialsNotChecked,
    DeliveryReport,
    IncomingReport,
    Outcome,
    OutgoingSms,
    SendResult,
)


@dataclass
class OutboxProvider(CredentialsNotChecked):
    name: str = "outbox"

    async def send(self, message: OutgoingSms) -> SendResult:
        return SendResult(Outcome.accepted, provider_message_id=f"outbox-{message.id}")

    def authenticate(self, report: IncomingReport, token: str) -> bool:
        return False  # nobody reports on messages that never left the database

    def parse_report(self, report: IncomingReport) -> list[DeliveryReport]:
        return []
