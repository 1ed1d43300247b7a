"""SMS gateways behind one interface (``base.SmsProvider``), chosen by PORTAL_SMS_BACKEND."""

from __future__ import annotations

import httpx

from portal.settings import Settings
from portal.sms.providers.base import SmsProvider
from portal.sms.providers.outbox import OutboxProvider
from portal.sms.providers.thaibulksms import ThaiBulkSmsProvider
from portal.sms.providers.twilio import TwilioProvider
from portal.sms.providers.webhook import WebhookProvider

REPORTS_PATH = "/sms/reports"


def report_url(settings: Settings, backend: str) -> str | None:
    """Where a gateway sends delivery reports, or None when reports are not set up."""
    if backend == "twilio":
        return f"{settings.base_url}{REPORTS_PATH}/twilio"
    if settings.sms_report_token:
        return f"{settings.base_url}{REPORTS_PATH}/{backend}/{settings.sms_report_token}"
    return None


def _required(value: str | None) -> str:
    if not value:  # load_settings refuses to start without it; a hand-built Settings may not
        raise ValueError("the SMS backend's settings are incomplete")
    return value


def build_provider(
    settings: Settings, client: httpx.AsyncClient | None = None, *, backend: str | None = None
) -> SmsProvider:
    """The configured gateway (PORTAL_SMS_BACKEND, or ``backend``: the fallback's name);
    without ``client`` it can read reports but not send."""
    backend = backend or settings.sms_backend
    if backend == "webhook":
        return WebhookProvider(
            url=_required(settings.sms_webhook_url),
            report_token=settings.sms_report_token,
            client=client,
            secret=settings.sms_webhook_secret,
        )
    if backend == "thaibulksms":
        return ThaiBulkSmsProvider(
            api_key=_required(settings.sms_thaibulksms_api_key),
            api_secret=_required(settings.sms_thaibulksms_api_secret),
            force=settings.sms_thaibulksms_force,
            callback_url=report_url(settings, backend),
            report_token=settings.sms_report_token,
            client=client,
        )
    if backend == "twilio":
        return TwilioProvider(
            account_sid=_required(settings.sms_twilio_account_sid),
            auth_token=_required(settings.sms_twilio_auth_token),
            sender=settings.sms_twilio_from,
            messaging_service_sid=settings.sms_twilio_messaging_service_sid,
            status_callback=report_url(settings, backend),
            client=client,
        )
    return OutboxProvider()


def build_fallback(
    settings: Settings, client: httpx.AsyncClient | None = None
) -> SmsProvider | None:
    """The second gateway (PORTAL_SMS_FALLBACK_BACKEND), or None when there is none."""
    if not settings.sms_fallback_backend:
        return None
    return build_provider(settings, client, backend=settings.sms_fallback_backend)
