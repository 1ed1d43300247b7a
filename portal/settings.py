"""Configuration read from the environment once, into a frozen ``Settings``.

Nothing in the portal reads the environment at import time: ``load_settings`` is called by the
``portal`` command (or a test) and the result is handed to ``create_app``. That keeps tests free
to build as many differently configured apps as they like.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from portal.keyring import KeyRing, derive_ring

ENVIRONMENTS = ("development", "production")
SMS_BACKENDS = ("outbox", "webhook", "thaibulksms", "twilio")
"""Anything else is a configuration error, not a silent fallback to the outbox."""
SMS_DISPATCH_MODES = ("serve", "worker")
"""Who sends queued SMS: every ``portal serve`` process, or only ``portal sms worker``."""
LOG_FORMATS = ("json", "text")
THAIBULKSMS_CREDIT_TYPES = ("corporate", "standard")
MIN_REPORT_TOKEN_LENGTH = 16
MIN_ATTACHMENT_BYTES = 10 * 1024
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
"""Bounds of ``PORTAL_ATTACHMENT_MAX_BYTES``: the upload routes' body limits are fixed at
start-up from the ceiling (see portal/attachments/routes.py)."""


MIN_SECRET_LENGTH = 32
# Bounds of PORTAL_IPV6_PREFIX_LENGTH: wider than a /32 would lump whole carriers together.
MIN_IPV6_PREFIX = 32
MAX_IPV6_PREFIX = 128
MIN_RETENTION_DAYS = 30


class SettingsError(ValueError):
    """The environment describes a portal that must not start."""


@dataclass(frozen=True)
class Settings:
    env: str
    data_dir: Path
    database_url: str
    secret_key: str
    base_url: str
    sms_backend: str
    sms_sender: str
    sms_webhook_url: str | None
    sms_daily_budget: int
    otp_ip_hourly_limit: int
    forwarded_allow_ips: str
    office_name: str
    # SMS gateways (see portal/sms/providers/); defaults keep hand-built Settings working.
    sms_dispatch: str = "serve"
    sms_report_token: str | None = None
    sms_thaibulksms_api_key: str | None = None
    sms_thaibulksms_api_secret: str | None = None
    sms_thaibulksms_force: str = "corporate"
    sms_twilio_account_sid: str | None = None
    sms_twilio_auth_token: str | None = None
    sms_twilio_from: str | None = None
    sms_twilio_messaging_service_sid: str | None = None
    # PostgreSQL connections each process keeps open (see portal/db.py).
    database_pool_min: int = 2
    database_pool_max: int = 10
    # Photos and PDFs citizens attach (see portal/attachments/): the largest one file may be.
    attachment_max_bytes: int = 10 * 1024 * 1024
    # PostgreSQL: the longest a web or SMS worker statement waits for a lock / runs at all
    # (migrations are exempt); past it the request answers 503 with Retry-After, not a hang.
    database_lock_timeout_s: int = 5
    database_statement_timeout_s: int = 15
    # PDPA (see portal/privacy/): how long closed requests keep personal data, and whom
    # citizens contact to use their rights.
    retention_days: int = 1825
    privacy_contact_phone: str = ""
    privacy_contact_email: str = ""
    # The contact page (/contact, portal/office/): how citizens reach the office; what is
    # empty is not shown (phone and e-mail fall back to the privacy contact's).
    office_phone: str = ""
    office_line_url: str = ""
    office_email: str = ""
    office_address: str = ""
    office_map_url: str = ""
    office_hours: str = ""
    # The receipt PDF's Thai font (see portal/receipt/fonts.py); None: Debian's fonts-thai-tlwg.
    receipt_font_dir: Path | None = None
    # Abuse limits (see SECURITY.md): per-address limits count IPv6 clients per prefix of this
    # length (portal/web/client_net.py); one phone files at most this many requests a day.
    ipv6_prefix_length: int = 64
    filings_per_phone_day: int = 5
    # Distinct phones one address (IPv4, or IPv6 prefix) may ask codes for in an hour.
    otp_ip_phones_hourly_limit: int = 60
    # Request bodies (portal/web/body_limits.py): a body that stops for this many seconds, or
    # is not all in within the deadline (longer for the upload routes), is cut off with a 408.
    body_idle_timeout_s: int = 10
    body_deadline_s: int = 30
    # Production operations (issue 14). Earlier secrets still open what they sealed and verify
    # what they signed (portal keys rotate re-seals); /metrics needs this bearer token unless
    # asked from loopback; a second SMS gateway takes over when the first keeps failing; the
    # webhook gateway's requests are signed with this secret; log lines as JSON or text.
    old_secret_keys: tuple[str, ...] = ()
    metrics_token: str | None = None
    sms_fallback_backend: str | None = None
    sms_webhook_secret: str | None = None
    log_format: str = "text"
    # Issue 17: a short host for the links in SMS ("" = base_url), so each SMS is one part.
    sms_link_base_url: str = ""

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def sms_link_base(self) -> str:
        """What the links in SMS start with (``PORTAL_SMS_LINK_BASE_URL``, else the base URL)."""
        return self.sms_link_base_url or self.base_url

    def derive_key(self, purpose: str) -> KeyRing:
        """A 32-byte key for one purpose, so one secret never signs two kinds of thing; it
        carries the keys the old secrets derive for the same purpose (``portal.keyring``)."""
        return derive_ring(self.secret_key, self.old_secret_keys, purpose)


def _dev_secret(data_dir: Path) -> str:
    """Generate the development secret once and keep it, so sessions survive restarts.

    Several processes may start at once (``portal serve --workers 2`` beside ``portal sms
    worker``): each writes its own temporary file and hard-links it into place, which only
    one can do, and every process then reads the winner. A file too short to be a key (say,
    emptied by a crash) is replaced, never used: an empty key would make sessions, CSRF tokens
    and code hashes predictable.
    """
    path = data_dir / "secret_key"
    if path.exists():
        existing = path.read_text().strip()
        if len(existing) >= MIN_SECRET_LENGTH:
            return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(6)}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        try:
            os.link(partial, path)
        except FileExistsError:
            if len(path.read_text().strip()) < MIN_SECRET_LENGTH:
                os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path.read_text().strip()


def data_dir_from_env(env_vars: Mapping[str, str]) -> Path:
    return Path(env_vars.get("PORTAL_DATA_DIR", "./var")).resolve()


def database_url_from_env(env_vars: Mapping[str, str]) -> str:
    """The database URL alone, for Piccolo's CLI, which must not generate secrets."""
    default = f"sqlite:///{data_dir_from_env(env_vars) / 'portal.sqlite3'}"
    return env_vars.get("PORTAL_DATABASE_URL") or default


def _whole_number(env_vars: Mapping[str, str], name: str, default: str) -> int:
    value = env_vars.get(name, default)
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1")
    return int(value)


def _sms_gateway(env_vars: Mapping[str, str], backend: str) -> dict[str, Any]:
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


def _office_contact(env_vars: Mapping[str, str]) -> dict[str, str]:
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


def _sms_link_base_url(env_vars: Mapping[str, str], env: str) -> str:
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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env_vars = os.environ if environ is None else environ
    env = env_vars.get("PORTAL_ENV", "development")
    if env not in ENVIRONMENTS:
        raise SettingsError(f"PORTAL_ENV must be one of {ENVIRONMENTS}, not {env!r}")
    data_dir = data_dir_from_env(env_vars)
    database_url = database_url_from_env(env_vars)
    if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError("PORTAL_DATABASE_URL must start with sqlite:/// or postgresql://")

    secret_key = env_vars.get("PORTAL_SECRET_KEY", "")
    if not secret_key:
        if env == "production":
            raise SettingsError("PORTAL_SECRET_KEY is required when PORTAL_ENV=production")
        secret_key = _dev_secret(data_dir)
    elif len(secret_key) < MIN_SECRET_LENGTH:
        raise SettingsError(f"PORTAL_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")

    sms_backend = env_vars.get("PORTAL_SMS_BACKEND", "outbox")
    if sms_backend not in SMS_BACKENDS:
        raise SettingsError(
            f"PORTAL_SMS_BACKEND must be one of {SMS_BACKENDS}, not {sms_backend!r}"
        )
    if env == "production" and sms_backend == "outbox":
        raise SettingsError("the outbox SMS backend sends nothing; choose a real one in production")
    sms_gateway = _sms_gateway(env_vars, sms_backend)

    budget = _whole_number(env_vars, "PORTAL_SMS_DAILY_LIMIT", "2000")
    # Thai mobile carriers put many subscribers behind one address (CGNAT): an office may
    # need to raise the per-address limit without touching the per-phone ones.
    ip_limit = _whole_number(env_vars, "PORTAL_OTP_IP_HOURLY_LIMIT", "300")
    # One address asking codes for many different phones is a bot walking a number list; an
    # honest carrier address (CGNAT) brings a few new phones an hour (see SECURITY.md).
    ip_phones_limit = _whole_number(env_vars, "PORTAL_OTP_IP_PHONES_HOURLY_LIMIT", "60")
    pool_min = _whole_number(env_vars, "PORTAL_DATABASE_POOL_MIN", "2")
    pool_max = _whole_number(env_vars, "PORTAL_DATABASE_POOL_MAX", "10")
    if pool_min > pool_max:
        raise SettingsError("PORTAL_DATABASE_POOL_MIN must not be above PORTAL_DATABASE_POOL_MAX")
    attachment_max_bytes = _whole_number(env_vars, "PORTAL_ATTACHMENT_MAX_BYTES", "10485760")
    if not MIN_ATTACHMENT_BYTES <= attachment_max_bytes <= MAX_ATTACHMENT_BYTES:
        raise SettingsError(
            f"PORTAL_ATTACHMENT_MAX_BYTES must be between {MIN_ATTACHMENT_BYTES}"
            f" and {MAX_ATTACHMENT_BYTES}"
        )
    lock_timeout = _whole_number(env_vars, "PORTAL_DATABASE_LOCK_TIMEOUT", "5")
    statement_timeout = _whole_number(env_vars, "PORTAL_DATABASE_STATEMENT_TIMEOUT", "15")
    retention_days = _whole_number(env_vars, "PORTAL_RETENTION_DAYS", "1825")
    if retention_days < MIN_RETENTION_DAYS:
        # A typo (5 instead of 1825) would anonymise requests still being worked on.
        raise SettingsError(f"PORTAL_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS}")
    privacy_email = env_vars.get("PORTAL_PRIVACY_CONTACT_EMAIL", "").strip()
    if privacy_email and ("@" not in privacy_email or any(ch.isspace() for ch in privacy_email)):
        raise SettingsError("PORTAL_PRIVACY_CONTACT_EMAIL must be an e-mail address")

    font_dir = env_vars.get("PORTAL_RECEIPT_FONT_DIR", "").strip()
    ipv6_prefix = _whole_number(env_vars, "PORTAL_IPV6_PREFIX_LENGTH", "64")
    if not MIN_IPV6_PREFIX <= ipv6_prefix <= MAX_IPV6_PREFIX:
        raise SettingsError(
            f"PORTAL_IPV6_PREFIX_LENGTH must be between {MIN_IPV6_PREFIX} and {MAX_IPV6_PREFIX}"
        )
    filings_per_phone_day = _whole_number(env_vars, "PORTAL_FILINGS_PER_PHONE_DAILY_LIMIT", "5")
    body_idle_timeout = _whole_number(env_vars, "PORTAL_BODY_IDLE_TIMEOUT", "10")
    body_deadline = _whole_number(env_vars, "PORTAL_BODY_DEADLINE", "30")

    old_secret_keys = tuple(
        key.strip() for key in env_vars.get("PORTAL_OLD_SECRET_KEYS", "").split(",") if key.strip()
    )
    if any(len(key) < MIN_SECRET_LENGTH for key in old_secret_keys):
        raise SettingsError(
            f"PORTAL_OLD_SECRET_KEYS: each key must be at least {MIN_SECRET_LENGTH} characters"
        )
    metrics_token = env_vars.get("PORTAL_METRICS_TOKEN", "").strip() or None
    if metrics_token is not None and len(metrics_token) < MIN_REPORT_TOKEN_LENGTH:
        raise SettingsError(
            f"PORTAL_METRICS_TOKEN must be at least {MIN_REPORT_TOKEN_LENGTH} characters"
        )
    fallback = env_vars.get("PORTAL_SMS_FALLBACK_BACKEND", "").strip() or None
    if fallback is not None:
        if fallback not in SMS_BACKENDS or fallback == "outbox":
            raise SettingsError(
                f"PORTAL_SMS_FALLBACK_BACKEND must be one of {SMS_BACKENDS[1:]}, not {fallback!r}"
            )
        if fallback == sms_backend:
            raise SettingsError("PORTAL_SMS_FALLBACK_BACKEND must differ from PORTAL_SMS_BACKEND")
        _sms_gateway(env_vars, fallback)  # the fallback needs its own credentials too
    webhook_secret = env_vars.get("PORTAL_SMS_WEBHOOK_SECRET", "").strip() or None
    if webhook_secret is not None and len(webhook_secret) < MIN_REPORT_TOKEN_LENGTH:
        raise SettingsError(
            f"PORTAL_SMS_WEBHOOK_SECRET must be at least {MIN_REPORT_TOKEN_LENGTH} characters"
        )
    log_format = env_vars.get("PORTAL_LOG_FORMAT", "json" if env == "production" else "text")
    if log_format not in LOG_FORMATS:
        raise SettingsError(f"PORTAL_LOG_FORMAT must be one of {LOG_FORMATS}, not {log_format!r}")

    return Settings(
        env=env,
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key,
        base_url=env_vars.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        sms_backend=sms_backend,
        sms_sender=env_vars.get("PORTAL_SMS_SENDER", "OSS-LOCAL"),
        sms_webhook_url=env_vars.get("PORTAL_SMS_WEBHOOK_URL") or None,
        sms_daily_budget=budget,
        otp_ip_hourly_limit=ip_limit,
        # Behind a reverse proxy (needed for HTTPS), trust X-Forwarded-For from these
        # addresses only; otherwise every citizen would share the proxy's address and limit.
        forwarded_allow_ips=env_vars.get("PORTAL_FORWARDED_ALLOW_IPS", ""),
        office_name=env_vars.get("PORTAL_OFFICE_NAME", ""),
        receipt_font_dir=Path(font_dir).resolve() if font_dir else None,
        database_pool_min=pool_min,
        database_pool_max=pool_max,
        attachment_max_bytes=attachment_max_bytes,
        database_lock_timeout_s=lock_timeout,
        database_statement_timeout_s=statement_timeout,
        retention_days=retention_days,
        privacy_contact_phone=env_vars.get("PORTAL_PRIVACY_CONTACT_PHONE", "").strip(),
        privacy_contact_email=privacy_email,
        **_office_contact(env_vars),
        ipv6_prefix_length=ipv6_prefix,
        filings_per_phone_day=filings_per_phone_day,
        otp_ip_phones_hourly_limit=ip_phones_limit,
        body_idle_timeout_s=body_idle_timeout,
        body_deadline_s=body_deadline,
        old_secret_keys=old_secret_keys,
        metrics_token=metrics_token,
        sms_fallback_backend=fallback,
        sms_webhook_secret=webhook_secret,
        log_format=log_format,
        sms_link_base_url=_sms_link_base_url(env_vars, env),
        **sms_gateway,
    )
