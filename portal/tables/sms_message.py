from enum import StrEnum

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.citizen_request import CitizenRequest


class SmsState(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    failed = "failed"
    suppressed = "suppressed"
    """Never sent: stands in for an OTP to a phone with no request (see the tracking lookup)."""


class SmsPurpose(StrEnum):
    otp = "otp"
    receipt = "receipt"
    status = "status"


class SmsMessage(Table):
    """An SMS written in the same transaction as the event that causes it (the outbox)."""

    id = Serial(primary_key=True)
    to_phone = Varchar(length=16, index=True)
    sender = Varchar(length=11)
    text = Text()
    purpose = Varchar(length=16, choices=SmsPurpose)
    state = Varchar(length=16, choices=SmsState, default=SmsState.queued)
    request = ForeignKey(references=CitizenRequest, null=True, default=None)
    backend = Varchar(length=32)
    attempts = Integer(default=0)
    created_at = Timestamptz(index=True)
