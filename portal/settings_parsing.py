"""Reading and checking one group of ``PORTAL_*`` variables at a time, for ``load_settings``.

Each function takes the environment and returns the ``Settings`` fields of its group (or one
value), raising ``SettingsError`` with the variable's name when a value would start a portal
that must not run. ``portal/settings.py`` keeps the ``Settings`` fields, the secrets and the
order the groups are read in; every variable named here is also in ``portal --help``
(``portal/settings_catalogue.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

SMS_BACKENDS = ("outbox", "webhook", "thaibulksms", "twilio")
"""Anything else is a configuration error, not a silent fallback to the outbox."""
SMS_DISPATCH_MODES = ("serve", "worker")
"""Who sends queued SMS: every ``portal serve`` process, or only ``portal sms worker``."""
LOG_FORMATS = ("json", "text")
THAIBULKSMS_CREDIT_TYPES = ("corporate", "standard")
MIN_REPORT_TOKEN_LENGTH = 16
# Bounds of PORTAL_IPV6_PREFIX_LENGTH: wider than a /32 would lump whole carriers together.
MIN_IPV6_PREFIX = 32
MAX_IPV6_PREFIX = 128
MIN_RETENTION_DAYS = 30


class SettingsError(ValueError):
    """The environment describes a portal that must not start."""


def whole_number(env_vars: Mapping[str, str], name: str, default: str) -> int:
    value = env_vars.get(name, default)
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1")
    return int(value)


def _ceiling(env_vars: Mapping[str, str], name: str) -> int:
    """A whole number, or 0 (the default) for none."""
    value = env_vars.get(name, "0")
    return 0 if value == "0" else whole_number(env_vars, name, "0")


def sms_gateway(env_vars: Mapping[str, str], backend: str) -> dict[str, Any]:
    """The chosen gateway's settings; a gateway missing what it needs refuses to start."""

    def value(name: str) -> str | None:
        return env_vars.get(name, "").strip() or None

    def need(*names: str) -> None:
        missing = [name for name in names if not value(name)]
        if missing:
            raise SettingsError(f"PORTAL_SMS_BACKEND={backend} needs {', '.join(missing)}")

    if backend == "webhook":
        need("PORTAL_SMS_WEBHOOK_URL")
        if not str(value("PORTAL_SMS_WEBHOOK_URL")).startswith(("http://", "https://")):
            raise SettingsError("PORTAL_SMS_WEBHOOK_URL must be an http:// or https:// URL")
    elif backend == "thaibulksms":
        need("PORTAL_SMS_THAIBULKSMS_API_KEY", "PORTAL_SMS_THAIBULKSMS_API_SECRET")
    elif backend == "twilio":
        need("PORTAL_SMS_TWILIO_ACCOUNT_SID", "PORTAL_SMS_TWILIO_AUTH_TOKEN")
    force = env_vars.get("PORTAL_SMS_THAIBULKSMS_FORCE", "corporate")
    if force not in THAIBULKSMS_CREDIT_TYPES:
        raise SettingsError(
            f"PORTAL_SMS_THAIBULKSMS_FORCE must be one of {THAIBULKSMS_CREDIT_TYPES}"
        )
    token = value("PORTAL_SMS_REPORT_TOKEN")
    if token is not None and len(token) < MIN_REPORT_TOKEN_LENGTH:
        raise SettingsError(
            f"PORTAL_SMS_REPORT_TOKEN must be at least {MIN_REPORT_TOKEN_LENGTH} characters"
        )
    dispatch = env_vars.get("PORTAL_SMS_DISPATCH", "serve")
    if dispatch not in SMS_DISPATCH_MODES:
        raise SettingsError(f"PORTAL_SMS_DISPATCH must be one of {SMS_DISPATCH_MODES}")
    return {
        "sms_dispatch": dispatch,
        "sms_report_token": token,
        "sms_thaibulksms_api_key": value("PORTAL_SMS_THAIBULKSMS_API_KEY"),
        "sms_thaibulksms_api_secret": value("PORTAL_SMS_THAIBULKSMS_API_SECRET"),
        "sms_thaibulksms_force": force,
        "sms_twilio_account_sid": value("PORTAL_SMS_TWILIO_ACCOUNT_SID"),
        "sms_twilio_auth_token": value("PORTAL_SMS_TWILIO_AUTH_TOKEN"),
        "sms_twilio_from": value("PORTAL_SMS_TWILIO_FROM"),
        "sms_twilio_messaging_service_sid": value("PORTAL_SMS_TWILIO_MESSAGING_SERVICE_SID"),
    }


OFFICE_PHONE_DIGITS = (4, 15)
OFFICE_PHONE_MAX_LENGTH = 20
LINE_URL_PREFIXES = ("https://line.me/", "https://lin.ee/")
MAX_OFFICE_TEXT = 300


def office_contact(env_vars: Mapping[str, str]) -> dict[str, Any]:
    """The contact page's settings (``portal/office/contact.py``), checked for their form."""

    def value(name: str) -> str:
        return " ".join(env_vars.get(name, "").split())

    phone = value("PORTAL_OFFICE_PHONE")
    digits = phone.removeprefix("+").replace(" ", "").replace("-", "")
    low, high = OFFICE_PHONE_DIGITS
    if phone and (
        not (digits.isascii() and digits.isdigit() and low <= len(digits) <= high)
        or len(phone) > OFFICE_PHONE_MAX_LENGTH
    ):
        raise SettingsError(
            "PORTAL_OFFICE_PHONE must be a phone number: digits, spaces and hyphens"
            f" (e.g. 0 2123 4567 or 1111), {low} to {high} digits"
        )
    line_url = value("PORTAL_OFFICE_LINE_URL")
    if line_url and (not line_url.startswith(LINE_URL_PREFIXES) or " " in line_url):
        raise SettingsError(
            "PORTAL_OFFICE_LINE_URL must be a LINE link starting with https://line.me/"
            " or https://lin.ee/"
        )
    email = value("PORTAL_OFFICE_EMAIL")
    local, _, domain = email.partition("@")
    if email and (not local or "." not in domain or "@" in domain or " " in email):
        raise SettingsError("PORTAL_OFFICE_EMAIL must be an e-mail address (name@example.go.th)")
    map_url = value("PORTAL_OFFICE_MAP_URL")
    if map_url and (not map_url.startswith("https://") or len(map_url) <= 8 or " " in map_url):
        raise SettingsError("PORTAL_OFFICE_MAP_URL must be an https:// link to a map")
    texts = {
        "office_address": value("PORTAL_OFFICE_ADDRESS"),
        "office_hours": value("PORTAL_OFFICE_HOURS"),
    }
    for name, text in texts.items():
        if len(text) > MAX_OFFICE_TEXT:
            variable = "PORTAL_" + name.upper()
            raise SettingsError(f"{variable} must be at most {MAX_OFFICE_TEXT} characters")
    return {
        "office_phone": phone,
        "office_line_url": line_url,
        "office_email": email,
        "office_map_url": map_url,
        **texts,
    }


MAX_SMS_LINK_PATH_LENGTH = 8
"""A link base may carry a short path (``https://oss.go.th/p``); its length is advice, checked
by ``portal check`` (20 characters keep every SMS one part), never refused."""


def sms_link_base_url(env_vars: Mapping[str, str], env: str) -> str:
    raw = env_vars.get("PORTAL_SMS_LINK_BASE_URL", "").strip()
    if not raw:
        return ""
    url = raw.rstrip("/")
    wrong = SettingsError(
        "PORTAL_SMS_LINK_BASE_URL must be an address like https://oss.go.th"
        " (http or https, a host, no query)"
    )
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises
    except ValueError as error:
        raise wrong from error
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
        or "?" in url
        or "#" in url
        or any(ch.isspace() for ch in url)
    ):
        raise wrong
    if len(parts.path) > MAX_SMS_LINK_PATH_LENGTH:
        raise SettingsError(
            f"PORTAL_SMS_LINK_BASE_URL: a path of at most {MAX_SMS_LINK_PATH_LENGTH} characters"
            " (the link has to fit in the SMS)"
        )
    if env == "production" and parts.scheme != "https":
        raise SettingsError("PORTAL_SMS_LINK_BASE_URL must start with https:// in production")
    return url


def sms_section(env_vars: Mapping[str, str], env: str) -> dict[str, Any]:
    """The SMS gateway, its fallback, the daily budget and the links SMS carry."""
    sms_backend = env_vars.get("PORTAL_SMS_BACKEND", "outbox")
    if sms_backend not in SMS_BACKENDS:
        raise SettingsError(
            f"PORTAL_SMS_BACKEND must be one of {SMS_BACKENDS}, not {sms_backend!r}"
        )
    if env == "production" and sms_backend == "outbox":
        raise SettingsError("the outbox SMS backend sends nothing; choose a real one in production")
    gateway = sms_gateway(env_vars, sms_backend)
    fallback = env_vars.get("PORTAL_SMS_FALLBACK_BACKEND", "").strip() or None
    if fallback is not None:
        if fallback not in SMS_BACKENDS or fallback == "outbox":
            raise SettingsError(
                f"PORTAL_SMS_FALLBACK_BACKEND must be one of {SMS_BACKENDS[1:]}, not {fallback!r}"
            )
        if fallback == sms_backend:
            raise SettingsError("PORTAL_SMS_FALLBACK_BACKEND must differ from PORTAL_SMS_BACKEND")
        sms_gateway(env_vars, fallback)  # the fallback needs its own credentials too
    webhook_secret = env_vars.get("PORTAL_SMS_WEBHOOK_SECRET", "").strip() or None
    if webhook_secret is not None and len(webhook_secret) < MIN_REPORT_TOKEN_LENGTH:
        raise SettingsError(
            f"PORTAL_SMS_WEBHOOK_SECRET must be at least {MIN_REPORT_TOKEN_LENGTH} characters"
        )
    return {
        "sms_backend": sms_backend,
        "sms_sender": env_vars.get("PORTAL_SMS_SENDER", "OSS-LOCAL"),
        "sms_webhook_url": env_vars.get("PORTAL_SMS_WEBHOOK_URL") or None,
        "sms_daily_budget": whole_number(env_vars, "PORTAL_SMS_DAILY_LIMIT", "2000"),
        "sms_platform_daily_budget": _ceiling(env_vars, "PORTAL_SMS_PLATFORM_DAILY_LIMIT"),
        "sms_fallback_backend": fallback,
        "sms_webhook_secret": webhook_secret,
        "sms_link_base_url": sms_link_base_url(env_vars, env),
        **gateway,
    }


def abuse_limits(env_vars: Mapping[str, str]) -> dict[str, Any]:
    """Per-address and per-phone limits, and how long a request body may take (SECURITY.md)."""
    # Thai mobile carriers put many subscribers behind one address (CGNAT): an office may
    # need to raise the per-address limit without touching the per-phone ones.
    ip_limit = whole_number(env_vars, "PORTAL_OTP_IP_HOURLY_LIMIT", "300")
    # One address asking codes for many different phones is a bot walking a number list; an
    # honest carrier address (CGNAT) brings a few new phones an hour (see SECURITY.md).
    ip_phones_limit = whole_number(env_vars, "PORTAL_OTP_IP_PHONES_HOURLY_LIMIT", "60")
    ipv6_prefix = whole_number(env_vars, "PORTAL_IPV6_PREFIX_LENGTH", "64")
    if not MIN_IPV6_PREFIX <= ipv6_prefix <= MAX_IPV6_PREFIX:
        raise SettingsError(
            f"PORTAL_IPV6_PREFIX_LENGTH must be between {MIN_IPV6_PREFIX} and {MAX_IPV6_PREFIX}"
        )
    return {
        "otp_ip_hourly_limit": ip_limit,
        "otp_ip_phones_hourly_limit": ip_phones_limit,
        "ipv6_prefix_length": ipv6_prefix,
        "filings_per_phone_day": whole_number(
            env_vars, "PORTAL_FILINGS_PER_PHONE_DAILY_LIMIT", "5"
        ),
        "body_idle_timeout_s": whole_number(env_vars, "PORTAL_BODY_IDLE_TIMEOUT", "10"),
        "body_deadline_s": whole_number(env_vars, "PORTAL_BODY_DEADLINE", "30"),
    }


def database_section(env_vars: Mapping[str, str]) -> dict[str, Any]:
    """PostgreSQL's pool per process and how long a statement may wait or run."""
    pool_min = whole_number(env_vars, "PORTAL_DATABASE_POOL_MIN", "2")
    pool_max = whole_number(env_vars, "PORTAL_DATABASE_POOL_MAX", "10")
    if pool_min > pool_max:
        raise SettingsError("PORTAL_DATABASE_POOL_MIN must not be above PORTAL_DATABASE_POOL_MAX")
    return {
        "database_pool_min": pool_min,
        "database_pool_max": pool_max,
        "database_lock_timeout_s": whole_number(env_vars, "PORTAL_DATABASE_LOCK_TIMEOUT", "5"),
        "database_statement_timeout_s": whole_number(
            env_vars, "PORTAL_DATABASE_STATEMENT_TIMEOUT", "15"
        ),
    }


def privacy_section(env_vars: Mapping[str, str]) -> dict[str, Any]:
    """PDPA: how long closed requests keep personal data, and whom citizens contact."""
    retention_days = whole_number(env_vars, "PORTAL_RETENTION_DAYS", "1825")
    if retention_days < MIN_RETENTION_DAYS:
        # A typo (5 instead of 1825) would anonymise requests still being worked on.
        raise SettingsError(f"PORTAL_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS}")
    privacy_email = env_vars.get("PORTAL_PRIVACY_CONTACT_EMAIL", "").strip()
    if privacy_email and ("@" not in privacy_email or any(ch.isspace() for ch in privacy_email)):
        raise SettingsError("PORTAL_PRIVACY_CONTACT_EMAIL must be an e-mail address")
    return {
        "retention_days": retention_days,
        "privacy_contact_phone": env_vars.get("PORTAL_PRIVACY_CONTACT_PHONE", "").strip(),
        "privacy_contact_email": privacy_email,
    }


def operations_section(env_vars: Mapping[str, str], env: str) -> dict[str, Any]:
    """The /metrics token and the log lines' format."""
    metrics_token = env_vars.get("PORTAL_METRICS_TOKEN", "").strip() or None
    if metrics_token is not None and len(metrics_token) < MIN_REPORT_TOKEN_LENGTH:
        raise SettingsError(
            f"PORTAL_METRICS_TOKEN must be at least {MIN_REPORT_TOKEN_LENGTH} characters"
        )
    log_format = env_vars.get("PORTAL_LOG_FORMAT", "json" if env == "production" else "text")
    if log_format not in LOG_FORMATS:
        raise SettingsError(f"PORTAL_LOG_FORMAT must be one of {LOG_FORMATS}, not {log_format!r}")
    return {"metrics_token": metrics_token, "log_format": log_format}
