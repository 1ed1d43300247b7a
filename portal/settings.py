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
from typing import TYPE_CHECKING

from portal.keyring import KeyRing, derive_ring
from portal.settings_parsing import (
    SettingsError as SettingsError,  # raised here too; importers know it from this module
)
from portal.settings_parsing import (
    abuse_limits,
    database_section,
    office_contact,
    operations_section,
    privacy_section,
    sms_section,
    whole_number,
)

if TYPE_CHECKING:
    from litestar import Litestar

ENVIRONMENTS = ("development", "production")
MIN_ATTACHMENT_BYTES = 10 * 1024
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
"""Bounds of ``PORTAL_ATTACHMENT_MAX_BYTES``: the upload routes' body limits are fixed at
start-up from the ceiling (see portal/attachments/config.py)."""
MIN_SECRET_LENGTH = 32


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
    sms_platform_daily_budget: int = 0
    """PORTAL_SMS_PLATFORM_DAILY_LIMIT: SMS of all offices together per 24 hours; 0: no ceiling."""
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
    # length (portal/kernel/client_net.py); one phone files at most this many requests a day.
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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the environment once; each group of variables is checked by its own reader
    (``portal/settings_parsing.py``), in the order an operator meets them in ``.env``."""
    env_vars = os.environ if environ is None else environ
    env = env_vars.get("PORTAL_ENV", "development")
    if env not in ENVIRONMENTS:
        raise SettingsError(f"PORTAL_ENV must be one of {ENVIRONMENTS}, not {env!r}")
    data_dir = data_dir_from_env(env_vars)
    database_url = database_url_from_env(env_vars)
    if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError("PORTAL_DATABASE_URL must start with sqlite:/// or postgresql://")
    secret_key = _secret_key(env_vars, env, data_dir)
    sms = sms_section(env_vars, env)
    limits = abuse_limits(env_vars)
    database = database_section(env_vars)
    attachment_max_bytes = whole_number(env_vars, "PORTAL_ATTACHMENT_MAX_BYTES", "10485760")
    if not MIN_ATTACHMENT_BYTES <= attachment_max_bytes <= MAX_ATTACHMENT_BYTES:
        raise SettingsError(
            f"PORTAL_ATTACHMENT_MAX_BYTES must be between {MIN_ATTACHMENT_BYTES}"
            f" and {MAX_ATTACHMENT_BYTES}"
        )
    font_dir = env_vars.get("PORTAL_RECEIPT_FONT_DIR", "").strip()
    return Settings(
        env=env,
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key,
        old_secret_keys=_old_secret_keys(env_vars),
        base_url=env_vars.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        # Behind a reverse proxy (needed for HTTPS), trust X-Forwarded-For from these
        # addresses only; otherwise every citizen would share the proxy's address and limit.
        forwarded_allow_ips=env_vars.get("PORTAL_FORWARDED_ALLOW_IPS", ""),
        office_name=env_vars.get("PORTAL_OFFICE_NAME", ""),
        receipt_font_dir=Path(font_dir).resolve() if font_dir else None,
        attachment_max_bytes=attachment_max_bytes,
        **sms,
        **limits,
        **database,
        **privacy_section(env_vars),
        **office_contact(env_vars),
        **operations_section(env_vars, env),
    )


def _secret_key(env_vars: Mapping[str, str], env: str, data_dir: Path) -> str:
    secret_key = env_vars.get("PORTAL_SECRET_KEY", "")
    if not secret_key:
        if env == "production":
            raise SettingsError("PORTAL_SECRET_KEY is required when PORTAL_ENV=production")
        return _dev_secret(data_dir)
    if len(secret_key) < MIN_SECRET_LENGTH:
        raise SettingsError(f"PORTAL_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
    return secret_key


def _old_secret_keys(env_vars: Mapping[str, str]) -> tuple[str, ...]:
    """Earlier secrets (``PORTAL_OLD_SECRET_KEYS``): still open what they sealed."""
    old_secret_keys = tuple(
        key.strip() for key in env_vars.get("PORTAL_OLD_SECRET_KEYS", "").split(",") if key.strip()
    )
    if any(len(key) < MIN_SECRET_LENGTH for key in old_secret_keys):
        raise SettingsError(
            f"PORTAL_OLD_SECRET_KEYS: each key must be at least {MIN_SECRET_LENGTH} characters"
        )
    return old_secret_keys


SETTINGS_STATE_KEY = "settings"
"""Where ``create_app`` keeps the settings in the app's state, for ``settings_of``."""


def settings_of(app: Litestar) -> Settings:
    """The app's settings, for code that receives the app rather than a dependency: start-up
    hooks and guards. Handlers take ``settings: Settings`` (an app-wide dependency) instead."""
    settings: Settings = app.state[SETTINGS_STATE_KEY]
    return settings
