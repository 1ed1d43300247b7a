"""Every environment variable the ``portal`` command reads, with its default and meaning.

One table, kept next to ``portal/settings.py``, that ``portal --help`` prints, so the help
cannot drift from what the code reads (tests/test_settings_catalogue.py checks every
``PORTAL_*`` name in settings.py appears here). README's settings table is written from the same
list.
"""

from __future__ import annotations

from typing import NamedTuple


class EnvVar(NamedTuple):
    name: str
    default: str
    meaning: str


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar("PORTAL_ENV_FILE", ".env", "file of NAME=value lines read at start-up"),
    EnvVar("PORTAL_ENV", "development", "development | production"),
    EnvVar("PORTAL_DATA_DIR", "./var", "data folder (SQLite file, uploads, dev secret)"),
    EnvVar("PORTAL_DATABASE_URL", "sqlite:///DATA_DIR/portal.sqlite3", "or postgresql://..."),
    EnvVar("PORTAL_DATABASE_POOL_MIN", "2", "PostgreSQL connections kept per process"),
    EnvVar("PORTAL_DATABASE_POOL_MAX", "10", "PostgreSQL connections at most per process"),
    EnvVar("PORTAL_DATABASE_LOCK_TIMEOUT", "5", "seconds a statement may wait for a lock"),
    EnvVar("PORTAL_DATABASE_STATEMENT_TIMEOUT", "15", "seconds a statement may run"),
    EnvVar("PORTAL_SECRET_KEY", "generated in development", "32+ characters; production needs it"),
    EnvVar("PORTAL_OLD_SECRET_KEYS", "(none)", "earlier secret keys, comma separated"),
    EnvVar(
        "PORTAL_BASE_URL", "http://127.0.0.1:8000", "address citizens use (https in production)"
    ),
    EnvVar(
        "PORTAL_SMS_LINK_BASE_URL",
        "PORTAL_BASE_URL",
        "short address for links in SMS (20 characters at most: one-part SMS)",
    ),
    EnvVar("PORTAL_FORWARDED_ALLOW_IPS", "(none)", "reverse proxies whose X-Forwarded-For counts"),
    EnvVar("PORTAL_OFFICE_NAME", "(none)", "shown in the header and the privacy notice"),
    EnvVar("PORTAL_LOG_FORMAT", "json in production, else text", "json | text"),
    EnvVar("PORTAL_METRICS_TOKEN", "(none)", "bearer token for /metrics from other hosts"),
    EnvVar("PORTAL_SMS_BACKEND", "outbox", "outbox (development) | webhook | thaibulksms | twilio"),
    EnvVar("PORTAL_SMS_FALLBACK_BACKEND", "(none)", "second gateway when the first keeps failing"),
    EnvVar("PORTAL_SMS_SENDER", "OSS-LOCAL", "SMS sender name"),
    EnvVar("PORTAL_SMS_DISPATCH", "serve", "serve | worker: who sends queued SMS"),
    EnvVar("PORTAL_SMS_WEBHOOK_URL", "(none)", "webhook gateway: URL the portal POSTs to"),
    EnvVar("PORTAL_SMS_WEBHOOK_SECRET", "(none)", "webhook gateway: request signing secret"),
    EnvVar("PORTAL_SMS_THAIBULKSMS_API_KEY", "(none)", "ThaiBulkSMS API key"),
    EnvVar("PORTAL_SMS_THAIBULKSMS_API_SECRET", "(none)", "ThaiBulkSMS API secret"),
    EnvVar("PORTAL_SMS_THAIBULKSMS_FORCE", "corporate", "ThaiBulkSMS credit: corporate | standard"),
    EnvVar("PORTAL_SMS_TWILIO_ACCOUNT_SID", "(none)", "Twilio account SID"),
    EnvVar("PORTAL_SMS_TWILIO_AUTH_TOKEN", "(none)", "Twilio auth token"),
    EnvVar("PORTAL_SMS_TWILIO_FROM", "PORTAL_SMS_SENDER", "Twilio From number or name"),
    EnvVar("PORTAL_SMS_TWILIO_MESSAGING_SERVICE_SID", "(none)", "Twilio Messaging Service"),
    EnvVar("PORTAL_SMS_REPORT_TOKEN", "(none)", "16+ characters: delivery report URL token"),
    EnvVar("PORTAL_SMS_DAILY_LIMIT", "2000", "SMS handed to the gateway per 24 hours"),
    EnvVar("PORTAL_SMS_PLATFORM_DAILY_LIMIT", "0", "all offices' SMS per 24 hours (0: no ceiling)"),
    EnvVar("PORTAL_OTP_IP_HOURLY_LIMIT", "300", "codes one address may ask for per hour"),
    EnvVar("PORTAL_OTP_IP_PHONES_HOURLY_LIMIT", "60", "phones one address may ask codes for"),
    EnvVar("PORTAL_IPV6_PREFIX_LENGTH", "64", "IPv6 prefix counted as one address (32-128)"),
    EnvVar("PORTAL_FILINGS_PER_PHONE_DAILY_LIMIT", "5", "requests one phone may file per day"),
    EnvVar("PORTAL_BODY_IDLE_TIMEOUT", "10", "seconds a request body may stall"),
    EnvVar("PORTAL_BODY_DEADLINE", "30", "seconds a request body may take in all"),
    EnvVar("PORTAL_ATTACHMENT_MAX_BYTES", "10485760", "largest attachment (10 KB to 20 MB)"),
    EnvVar("PORTAL_RETENTION_DAYS", "1825", "days closed requests keep personal data (>= 30)"),
    EnvVar("PORTAL_PRIVACY_CONTACT_PHONE", "(none)", "privacy notice: contact phone"),
    EnvVar("PORTAL_PRIVACY_CONTACT_EMAIL", "(none)", "privacy notice: contact e-mail"),
    EnvVar("PORTAL_OFFICE_PHONE", "PORTAL_PRIVACY_CONTACT_PHONE", "contact page: phone to call"),
    EnvVar(
        "PORTAL_OFFICE_LINE_URL",
        "(none)",
        "contact page: https://line.me/... or https://lin.ee/...",
    ),
    EnvVar("PORTAL_OFFICE_EMAIL", "PORTAL_PRIVACY_CONTACT_EMAIL", "contact page: e-mail"),
    EnvVar("PORTAL_OFFICE_ADDRESS", "(none)", "contact page: the office's address"),
    EnvVar("PORTAL_OFFICE_MAP_URL", "(none)", "contact page: https:// map link"),
    EnvVar(
        "PORTAL_OFFICE_HOURS",
        "จันทร์–ศุกร์ 08:30–16:30 น. เว้นวันหยุดราชการ",
        "contact page: opening hours",
    ),
    EnvVar("PORTAL_RECEIPT_FONT_DIR", "/usr/share/fonts/truetype/tlwg", "Thai font for receipts"),
    EnvVar("PORTAL_HOST", "127.0.0.1", "portal serve --host"),
    EnvVar("PORTAL_PORT", "8000", "portal serve --port"),
    EnvVar("PORTAL_WORKERS", "1", "portal serve --workers"),
)


def epilog() -> str:
    """The environment variables as ``portal --help`` lists them."""
    lines = ["environment variables (also read from .env; a real environment variable wins):"]
    for var in ENV_VARS:
        lines += [f"  {var.name} (default: {var.default})", f"      {var.meaning}"]
    return "\n".join(lines)
