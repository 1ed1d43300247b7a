"""``portal check``: is this configuration and this machine ready to serve citizens?

Each check answers OK, WARN or FAIL with one short line an office IT person can act on. The
checks read the environment themselves (not only a loaded ``Settings``), so one bad setting
does not hide the state of the database, the font or the data folder: the operator sees every
problem in one run. Nothing here raises: an unreachable database is a FAIL line, not a
traceback.

The SMS gateway is asked whether our credentials work (a read-only call, never an SMS) unless
``offline``: CI and air-gapped machines have no way to reach it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from portal.envfile import is_public_https
from portal.settings import (
    MIN_SECRET_LENGTH,
    Settings,
    SettingsError,
    data_dir_from_env,
    database_url_from_env,
    load_settings,
)
from portal.sms.providers.base import (
    CREDENTIAL_CHECK_TIMEOUT_S,
    CredentialCheck,
    CredentialVerdict,
)

CREDENTIAL_VARIABLES = {
    "thaibulksms": ("PORTAL_SMS_THAIBULKSMS_API_KEY", "PORTAL_SMS_THAIBULKSMS_API_SECRET"),
    "twilio": ("PORTAL_SMS_TWILIO_ACCOUNT_SID", "PORTAL_SMS_TWILIO_AUTH_TOKEN"),
}
"""The settings a gateway's refusal points at (``portal/settings_parsing.py`` ``sms_gateway``)."""
OK = "OK"
WARN = "WARN"
FAIL = "FAIL"
SKIP = "SKIP"
DATABASE_TIMEOUT_S = 2.0
"""Seconds the database may take to answer; a slower one is reported, not waited for."""
MIN_DISTINCT_SECRET_CHARACTERS = 8
"""Even 32 random hex digits (``openssl rand -hex 16``) show fewer than 8 different ones
about once in 30 million keys; "aaaa..." or "12341234..." is a typed placeholder."""
PLACEHOLDER_WORDS = ("change", "example", "replace", "placeholder", "your", "xxxx")
"""Words of a value typed in to fill the blank, not generated."""
T = TypeVar("T")


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4} {self.name}: {self.detail}"


def redact_url(url: str) -> str:
    """The database URL without its password, fit to print."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}@{netloc}").geturl()


def short_reason(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def secret_strength(value: str) -> str | None:
    """Why ``value`` is a weak secret key, or None if it looks generated."""
    if len(value) < MIN_SECRET_LENGTH:
        return f"only {len(value)} characters, it needs {MIN_SECRET_LENGTH} or more"
    lowered = value.lower()
    word = next((word for word in PLACEHOLDER_WORDS if word in lowered), None)
    if word is not None:
        return f"looks like a placeholder (contains {word!r})"
    if len(set(value)) < MIN_DISTINCT_SECRET_CHARACTERS:
        return f"only {len(set(value))} different character(s), so not random"
    return None


def check_secret(environ: Mapping[str, str]) -> CheckResult:
    env = environ.get("PORTAL_ENV", "development")
    value = environ.get("PORTAL_SECRET_KEY", "")
    if not value:
        if env == "production":
            return CheckResult("secret", FAIL, "PORTAL_SECRET_KEY is not set")
        return CheckResult("secret", OK, "generated in PORTAL_DATA_DIR (development)")
    weak = secret_strength(value)
    if weak is not None:
        hint = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        return CheckResult("secret", FAIL, f"PORTAL_SECRET_KEY is weak: {weak}; {hint}")
    return CheckResult("secret", OK, f"PORTAL_SECRET_KEY has {len(value)} characters")


def check_sms(settings: Settings | None) -> CheckResult:
    if settings is None:
        return CheckResult("sms", SKIP, "not checked until the configuration loads")
    backend = settings.sms_backend
    if backend == "outbox":
        detail = "outbox: nothing is sent; see `portal sms outbox` (development only)"
        return CheckResult("sms", OK, detail)
    detail = f"PORTAL_SMS_BACKEND={backend}, credentials present"
    if settings.sms_fallback_backend:
        detail += f"; fallback {settings.sms_fallback_backend}, credentials present"
    return CheckResult("sms", OK, detail)


def check_sms_links(settings: Settings | None) -> CheckResult:
    """Advice, never a refusal: a long link base makes every SMS with a link two parts (each
    billed); the OTP SMS keeps its WebOTP line only while it fits one part."""
    from portal.otp.policy import OtpPolicy
    from portal.sms.texts import (
        MAX_LINK_BASE_LENGTH,
        link_sms_parts,
        render_sms,
        webotp_host,
        with_webotp_line,
    )

    if settings is None:
        return CheckResult("sms links", SKIP, "not checked until the configuration loads")
    base = settings.sms_link_base
    variable = "PORTAL_SMS_LINK_BASE_URL" if settings.sms_link_base_url else "PORTAL_BASE_URL"
    host = webotp_host(settings.base_url)
    minutes = int(OtpPolicy().validity.total_seconds() // 60)
    otp = render_sms("otp.txt", code="999999", minutes=minutes)
    webotp = (
        f"the code SMS ends with @{host} #code (WebOTP)"
        if host and with_webotp_line(otp, host=host, code="999999") != otp
        else "the code SMS has no WebOTP line (host too long)"
    )
    parts = link_sms_parts(base)
    if parts == 1 and len(base) <= MAX_LINK_BASE_LENGTH:
        return CheckResult("sms links", OK, f"{base}: every SMS one part; {webotp}")
    detail = (
        f"{variable}={base} is {len(base)} characters: SMS with a link take {parts} parts;"
        f" set PORTAL_SMS_LINK_BASE_URL to a short host of at most {MAX_LINK_BASE_LENGTH}"
        f" characters (e.g. https://oss.go.th) for one part; {webotp}"
    )
    # Advice for the SMS the office pays for; in development nothing is sent.
    return CheckResult("sms links", OK if settings.is_development else WARN, detail)


def _credential_result(backend: str, check: CredentialCheck, hidden: list[str]) -> CheckResult:
    name = f"sms credentials ({backend})"
    detail = check.detail
    for secret in hidden:  # a gateway that echoes our credentials back
        detail = detail.replace(secret, "***")
    verdict = check.verdict
    if verdict is CredentialVerdict.accepted:
        return CheckResult(name, OK, "accepted" + (f" ({detail})" if detail else ""))
    if verdict is CredentialVerdict.refused:
        variables = " / ".join(CREDENTIAL_VARIABLES.get(backend, ("its credentials",)))
        return CheckResult(name, FAIL, f"the gateway refused {variables} ({detail})")
    if verdict is CredentialVerdict.unusable:
        return CheckResult(name, FAIL, f"accepted, but {detail}")
    if verdict is CredentialVerdict.unreachable:
        return CheckResult(name, FAIL, f"could not reach the gateway: {detail}")
    if verdict is CredentialVerdict.unexpected:
        return CheckResult(name, WARN, f"could not confirm: the gateway answered {detail}")
    return CheckResult(name, SKIP, f"{backend}: {detail}")


async def check_sms_credentials(
    settings: Settings | None, *, offline: bool = False
) -> list[CheckResult]:
    """One line per gateway (PORTAL_SMS_BACKEND, then the fallback): do its credentials work?
    Asked with a read-only call (see each provider's ``check_credentials``); a gateway with
    no such call (webhook) or nothing to send through (outbox) is a SKIP, not a guess."""
    from portal.sms.providers import build_provider

    if settings is None:  # the ``sms`` line already says SKIP
        return []
    backends = [settings.sms_backend]
    if settings.sms_fallback_backend:
        backends.append(settings.sms_fallback_backend)
    hidden = [
        value
        for value in (
            settings.sms_thaibulksms_api_key,
            settings.sms_thaibulksms_api_secret,
            settings.sms_twilio_auth_token,
        )
        if value
    ]
    results = []
    async with httpx.AsyncClient() as client:
        for backend in backends:
            name = f"sms credentials ({backend})"
            if backend == "outbox":
                results.append(CheckResult(name, SKIP, "outbox: nothing is sent, nothing to check"))
                continue
            if offline and backend in CREDENTIAL_VARIABLES:
                results.append(CheckResult(name, SKIP, "not asked (--offline)"))
                continue
            provider = build_provider(settings, backend=backend)
            try:  # httpx bounds each wait; this bounds a gateway answering drop by drop
                check = await asyncio.wait_for(
                    provider.check_credentials(client), CREDENTIAL_CHECK_TIMEOUT_S + 1
                )
            except TimeoutError:
                reason = f"no answer in {CREDENTIAL_CHECK_TIMEOUT_S:g} s"
                check = CredentialCheck(CredentialVerdict.unreachable, reason)
            results.append(_credential_result(backend, check, hidden))
    return results


def check_office_contact(settings: Settings | None) -> CheckResult:
    """The contact page every "ติดต่อเจ้าหน้าที่" links to (``portal/office/contact.py``)."""
    from portal.office.contact import OfficeContact

    if settings is None:
        return CheckResult("office contact", SKIP, "not checked until the configuration loads")
    contact = OfficeContact.from_settings(settings)
    shown = [
        label
        for label, value in (
            ("phone", contact.dial),
            ("LINE", contact.line_url),
            ("e-mail", contact.email),
            ("address", contact.address),
            ("map", contact.map_url),
        )
        if value
    ]
    if not contact.dial:
        detail = "PORTAL_OFFICE_PHONE is not set: the contact page (/contact) has no number to call"
        return CheckResult("office contact", OK if settings.is_development else WARN, detail)
    return CheckResult("office contact", OK, "/contact shows " + ", ".join(shown))


def check_font(environ: Mapping[str, str]) -> CheckResult:
    from portal.receipt.fonts import ReceiptFontMissing, find_fonts

    named = environ.get("PORTAL_RECEIPT_FONT_DIR", "").strip()
    try:
        fonts = find_fonts(Path(named).resolve() if named else None)
    except ReceiptFontMissing as missing:
        return CheckResult("receipt font", FAIL, str(missing))
    return CheckResult("receipt font", OK, f"{fonts.family} in {fonts.regular.parent}")


def check_data_dir(environ: Mapping[str, str]) -> CheckResult:
    folder = data_dir_from_env(environ)
    probe = folder / f".portal-check-{secrets.token_hex(6)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as error:
        reason = error.strerror or short_reason(error)
        return CheckResult("data dir", FAIL, f"PORTAL_DATA_DIR {folder} is not writable: {reason}")
    return CheckResult("data dir", OK, f"{folder} is writable")


def check_base_url(environ: Mapping[str, str]) -> list[CheckResult]:
    env = environ.get("PORTAL_ENV", "development")
    base_url = environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")
    results = []
    if env == "production" and not base_url.startswith("https://"):
        detail = f"PORTAL_BASE_URL={base_url} must start with https:// in production"
        results.append(CheckResult("base url", FAIL, detail + " (links in SMS, cookies)"))
    else:
        results.append(CheckResult("base url", OK, f"{base_url} ({env})"))
    if is_public_https(base_url) and not environ.get("PORTAL_FORWARDED_ALLOW_IPS", "").strip():
        detail = (
            "PORTAL_FORWARDED_ALLOW_IPS is empty: behind an HTTPS proxy every citizen"
            " shares the proxy's address and its limits; set it to the proxy's address"
        )
        results.append(CheckResult("proxy", WARN, detail))
    return results


async def _timed(work: Awaitable[T]) -> T:
    return await asyncio.wait_for(work, DATABASE_TIMEOUT_S)


async def check_database(environ: Mapping[str, str]) -> list[CheckResult]:
    """Reachable within two seconds, then every migration applied."""
    from piccolo.querystring import QueryString

    from portal.db import close_pool, configure_database, pending_migrations

    url = database_url_from_env(environ)
    shown = redact_url(url)
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        detail = "PORTAL_DATABASE_URL must start with sqlite:/// or postgresql://"
        return [CheckResult("database", FAIL, detail)]
    try:
        engine = configure_database(url)
        await _timed(engine.run_querystring(QueryString("SELECT 1")))
    except Exception as error:  # any failure to answer is the operator's to read, not a crash
        reason = "no answer in 2 s" if isinstance(error, TimeoutError) else short_reason(error)
        return [
            CheckResult("database", FAIL, f"cannot reach {shown}: {reason}"),
            CheckResult("migrations", SKIP, "not checked: no database"),
        ]
    results = [CheckResult("database", OK, f"{shown} answers")]
    try:
        pending = await _timed(pending_migrations())
    except Exception as error:  # reported as a FAIL line
        results.append(CheckResult("migrations", FAIL, f"cannot read: {short_reason(error)}"))
    else:
        if pending:
            detail = f"{len(pending)} not applied (first {pending[0]}); run `portal migrate`"
            results.append(CheckResult("migrations", FAIL, detail))
        else:
            results.append(CheckResult("migrations", OK, "all applied"))
    finally:
        await close_pool()
    return results


def check_configuration(
    environ: Mapping[str, str], env_file: Path | None
) -> tuple[CheckResult, Settings | None]:
    source = f"read {env_file}" if env_file else "no .env file"
    try:
        settings = load_settings(environ)
    except SettingsError as error:
        return CheckResult("configuration", FAIL, f"{error} ({source})"), None
    except OSError as error:  # the development secret could not be written
        detail = f"cannot write the development secret: {short_reason(error)}"
        return CheckResult("configuration", FAIL, detail), None
    return CheckResult("configuration", OK, f"PORTAL_ENV={settings.env} ({source})"), settings


def run_checks(
    environ: Mapping[str, str], env_file: Path | None = None, *, offline: bool = False
) -> list[CheckResult]:
    """Every check in order; ``offline`` skips the calls to the SMS gateway."""
    configuration, settings = check_configuration(environ, env_file)
    checks: list[Callable[[], list[CheckResult]]] = [
        lambda: [configuration],
        lambda: asyncio.run(check_database(environ)),
        lambda: [check_secret(environ)],
        lambda: [check_sms(settings)],
        lambda: [check_sms_links(settings)],
        lambda: asyncio.run(check_sms_credentials(settings, offline=offline)),
        lambda: [check_office_contact(settings)],
        lambda: [check_font(environ)],
        lambda: [check_data_dir(environ)],
        lambda: check_base_url(environ),
    ]
    return [result for check in checks for result in check()]
