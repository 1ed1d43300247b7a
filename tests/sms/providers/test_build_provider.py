"""``build_provider``: the configured gateway, with report URLs built from PORTAL_BASE_URL."""

from __future__ import annotations

from pathlib import Path

from portal.settings import Settings, load_settings
from portal.sms.providers import build_fallback, build_provider, report_url
from portal.sms.providers.outbox import OutboxProvider
from portal.sms.providers.thaibulksms import ThaiBulkSmsProvider
from portal.sms.providers.twilio import TwilioProvider
from portal.sms.providers.webhook import WebhookProvider

SECRET = "settings-test-secret-that-is-long-enough"
TOKEN = "report-token-0123456789"
BASE = "https://eservice.example.go.th"


def settings(tmp_path: Path, **values: str) -> Settings:
    return load_settings(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_SECRET_KEY": SECRET,
            "PORTAL_BASE_URL": BASE,
            **values,
        }
    )


def test_outbox_by_default(tmp_path: Path) -> None:
    assert isinstance(build_provider(settings(tmp_path)), OutboxProvider)


def test_webhook_with_its_url_and_token(tmp_path: Path) -> None:
    provider = build_provider(
        settings(
            tmp_path,
            PORTAL_SMS_BACKEND="webhook",
            PORTAL_SMS_WEBHOOK_URL="http://127.0.0.1:8025/sms",
            PORTAL_SMS_REPORT_TOKEN=TOKEN,
        )
    )
    assert isinstance(provider, WebhookProvider)
    assert (provider.url, provider.report_token) == ("http://127.0.0.1:8025/sms", TOKEN)


def test_thaibulksms_gets_a_callback_url_only_with_a_report_token(tmp_path: Path) -> None:
    gateway = {
        "PORTAL_SMS_BACKEND": "thaibulksms",
        "PORTAL_SMS_THAIBULKSMS_API_KEY": "key",
        "PORTAL_SMS_THAIBULKSMS_API_SECRET": "secret",
    }
    without = build_provider(settings(tmp_path, **gateway))
    assert isinstance(without, ThaiBulkSmsProvider)
    assert without.callback_url is None
    with_token = build_provider(settings(tmp_path, **gateway, PORTAL_SMS_REPORT_TOKEN=TOKEN))
    assert isinstance(with_token, ThaiBulkSmsProvider)
    assert with_token.callback_url == f"{BASE}/sms/reports/thaibulksms/{TOKEN}"


def test_twilio_status_callback_is_the_signed_report_url(tmp_path: Path) -> None:
    configured = settings(
        tmp_path,
        PORTAL_SMS_BACKEND="twilio",
        PORTAL_SMS_TWILIO_ACCOUNT_SID="AC0",
        PORTAL_SMS_TWILIO_AUTH_TOKEN="token",
    )
    provider = build_provider(configured)
    assert isinstance(provider, TwilioProvider)
    assert provider.status_callback == f"{BASE}/sms/reports/twilio"
    assert report_url(configured, "twilio") == provider.status_callback


def test_the_webhook_signs_with_the_secret_and_the_fallback_is_built_apart(
    tmp_path: Path,
) -> None:
    configured = settings(
        tmp_path,
        PORTAL_SMS_BACKEND="twilio",
        PORTAL_SMS_TWILIO_ACCOUNT_SID="AC0",
        PORTAL_SMS_TWILIO_AUTH_TOKEN="token",
        PORTAL_SMS_FALLBACK_BACKEND="webhook",
        PORTAL_SMS_WEBHOOK_URL="http://127.0.0.1:8025/sms",
        PORTAL_SMS_WEBHOOK_SECRET="webhook-signing-secret-0123456789",
    )
    assert isinstance(build_provider(configured), TwilioProvider)
    fallback = build_fallback(configured)
    assert isinstance(fallback, WebhookProvider)
    assert fallback.secret == "webhook-signing-secret-0123456789"
    assert build_fallback(settings(tmp_path)) is None
