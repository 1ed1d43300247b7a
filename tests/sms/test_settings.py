"""The SMS gateway settings in ``portal/settings.py`` (PORTAL_SMS_*)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.settings import SettingsError, load_settings

SECRET = "settings-test-secret-that-is-long-enough"
TOKEN = "report-token-0123456789"


def env(data_dir: Path, **values: str) -> dict[str, str]:
    return {"PORTAL_DATA_DIR": str(data_dir), "PORTAL_SECRET_KEY": SECRET, **values}


def test_defaults_need_no_gateway(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert settings.sms_backend == "outbox"
    assert settings.sms_dispatch == "serve"
    assert settings.sms_report_token is None
    assert settings.sms_thaibulksms_force == "corporate"
    assert settings.sms_twilio_account_sid is None


def test_webhook_needs_an_http_url(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SMS_WEBHOOK_URL"):
        load_settings(env(tmp_path, PORTAL_SMS_BACKEND="webhook"))
    with pytest.raises(SettingsError, match="http"):
        load_settings(
            env(tmp_path, PORTAL_SMS_BACKEND="webhook", PORTAL_SMS_WEBHOOK_URL="ftp://gw/sms")
        )
    settings = load_settings(
        env(tmp_path, PORTAL_SMS_BACKEND="webhook", PORTAL_SMS_WEBHOOK_URL="http://127.0.0.1/sms")
    )
    assert settings.sms_webhook_url == "http://127.0.0.1/sms"


def test_thaibulksms_needs_key_and_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SMS_THAIBULKSMS_API_SECRET"):
        load_settings(
            env(
                tmp_path,
                PORTAL_SMS_BACKEND="thaibulksms",
                PORTAL_SMS_THAIBULKSMS_API_KEY="key",
            )
        )
    settings = load_settings(
        env(
            tmp_path,
            PORTAL_ENV="production",
            PORTAL_SMS_BACKEND="thaibulksms",
            PORTAL_SMS_THAIBULKSMS_API_KEY="key",
            PORTAL_SMS_THAIBULKSMS_API_SECRET="secret",
            PORTAL_SMS_THAIBULKSMS_FORCE="standard",
        )
    )
    assert (settings.sms_thaibulksms_api_key, settings.sms_thaibulksms_api_secret) == (
        "key",
        "secret",
    )
    assert settings.sms_thaibulksms_force == "standard"


def test_thaibulksms_credit_type_is_checked(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SMS_THAIBULKSMS_FORCE"):
        load_settings(env(tmp_path, PORTAL_SMS_THAIBULKSMS_FORCE="premium"))


def test_twilio_needs_account_and_token(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SMS_TWILIO_ACCOUNT_SID"):
        load_settings(env(tmp_path, PORTAL_SMS_BACKEND="twilio"))
    settings = load_settings(
        env(
            tmp_path,
            PORTAL_SMS_BACKEND="twilio",
            PORTAL_SMS_TWILIO_ACCOUNT_SID="AC0",
            PORTAL_SMS_TWILIO_AUTH_TOKEN="token",
            PORTAL_SMS_TWILIO_FROM="+15005550006",
            PORTAL_SMS_TWILIO_MESSAGING_SERVICE_SID="MG0",
        )
    )
    assert settings.sms_twilio_from == "+15005550006"
    assert settings.sms_twilio_messaging_service_sid == "MG0"


def test_production_still_refuses_the_outbox(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="outbox"):
        load_settings(env(tmp_path, PORTAL_ENV="production"))


def test_report_token_must_be_long(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PORTAL_SMS_REPORT_TOKEN"):
        load_settings(env(tmp_path, PORTAL_SMS_REPORT_TOKEN="short"))
    assert load_settings(env(tmp_path, PORTAL_SMS_REPORT_TOKEN=TOKEN)).sms_report_token == TOKEN


def test_dispatch_mode_is_serve_or_worker(tmp_path: Path) -> None:
    assert load_settings(env(tmp_path, PORTAL_SMS_DISPATCH="worker")).sms_dispatch == "worker"
    with pytest.raises(SettingsError, match="PORTAL_SMS_DISPATCH"):
        load_settings(env(tmp_path, PORTAL_SMS_DISPATCH="both"))
