from enum import StrEnum

from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import Office


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
    phone_changed = "phone_changed"
    phone_moved = "phone_moved"
    """To the old number of a request staff moved to a new one (no link in it)."""


class SmsMessage(Table):
    """An SMS written in the same transaction as the event that causes it (the outbox)."""

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    to_phone = Varchar(length=16, index=True)
    sender = Varchar(length=11)
    text = Text()
    purpose = Varchar(length=16, choices=SmsPurpose)
    state = Varchar(length=16, choices=SmsState, default=SmsState.queued)
    request = ForeignKey(references=CitizenRequest, null=True, default=None)
    backend = Varchar(length=32)
    attempts = Integer(default=0)
    created_at = Timestamptz(index=True)
    next_attempt_at = Timestamptz(null=True, default=None, index=True)
    """When a dispatcher may (re)try; null once the message is settled."""
    lease_until = Timestamptz(null=True, default=None)
    """A dispatcher that claimed the message owns it until then; after a crash it is free again."""
    expires_at = Timestamptz(null=True, default=None)
    """Not worth sending after this (an OTP that is no longer valid)."""
    provider_message_id = Varchar(length=128, null=True, default=None, index=True)
    last_error = Text(default="")
    sent_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    failed_at = Timestamptz(null=True, default=None)
