"""What an office's settings may be: checked before anything is written, one error code per
field (the page's Thai sentences are in ``templates/platform/_messages.html``).

Strict on purpose: a host name decides which office answers a request, a sender is printed on
every SMS, and a base URL starts every tracking link an office sends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,30}[a-z0-9]")
"""2 to 32 characters, lower-case a-z, 0-9 and inner hyphens: a path prefix and a CLI handle."""
HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MAX_HOST = 253
SENDER = re.compile(r"[A-Za-z0-9 .-]{1,11}")
"""What Thai SMS gateways accept as a sender name: 11 characters at most."""
THAI = re.compile(r"[\u0e00-\u0e7f]")
PHONE = re.compile(r"[0-9+() -]{3,32}")
EMAIL = re.compile(r"[^@\s<>\"']{1,64}@[a-z0-9.-]{1,190}\.[a-z]{2,24}", re.IGNORECASE)
MAX_BUDGET = 1_000_000
MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 36_500

TEXT_LIMITS = {
    "name": 200,
    "name_en": 200,
    "phone": 32,
    "line_url": 200,
    "email": 200,
    "address": 1000,
    "map_url": 300,
    "hours": 200,
    "privacy_contact_phone": 32,
    "privacy_contact_email": 200,
    "base_url": 200,
    "sms_link_base_url": 200,
    "sms_sender": 11,
}
DETAIL_FIELDS = (
    "name",
    "name_en",
    "phone",
    "line_url",
    "email",
    "address",
    "hours",
    "map_url",
    "privacy_contact_phone",
    "privacy_contact_email",
    "sms_sender",
    "sms_daily_budget",
    "retention_days",
    "base_url",
    "sms_link_base_url",
)
"""What the office page edits besides the hosts, in the page's order."""


class PlatformError(ValueError):
    """``code`` names the problem (``slug``, ``slug_taken``, ``host``, ``host_taken``,
    ``default_office_needs_host``, ...); ``field`` the input it belongs to."""

    def __init__(self, code: str, field: str = "", detail: str = "") -> None:
        super().__init__(f"{field}: {code}" + (f" ({detail})" if detail else ""))
        self.code = code
        self.field = field
        self.detail = detail


def check_slug(raw: str) -> str:
    slug = raw.strip()
    if not SLUG.fullmatch(slug):
        raise PlatformError("slug", "slug")
    return slug


def check_name(raw: str) -> str:
    """The Thai name citizens see on every page: required, and in Thai."""
    name = " ".join(raw.split())
    if not name or len(name) > TEXT_LIMITS["name"] or not THAI.search(name):
        raise PlatformError("name", "name")
    return name


def check_host(raw: str) -> str:
    """A host name as browsers send it: lower case, no port, no trailing dot, no scheme."""
    host = raw.strip()
    if not host or len(host) > MAX_HOST or host != host.lower():
        raise PlatformError("host", "hosts", host)
    labels = host.split(".")
    if not all(HOST_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise PlatformError("host", "hosts", host)
    return host


def check_hosts(raw: Iterable[str]) -> list[str]:
    hosts: list[str] = []
    for item in raw:
        host = check_host(item)
        if host not in hosts:
            hosts.append(host)
    return hosts


def split_hosts(text: str) -> list[str]:
    """The page's host box: one per line (or separated by spaces or commas)."""
    return [part for part in re.split(r"[\s,]+", text) if part]


def check_sender(raw: str) -> str:
    sender = raw.strip()
    if sender and not SENDER.fullmatch(sender):
        raise PlatformError("sender", "sms_sender")
    return sender


def _url(raw: str, field: str, *, allow_http: bool) -> str:
    url = raw.strip().rstrip("/")
    if not url:
        return ""
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if (
        parts.scheme not in schemes
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or len(url) > TEXT_LIMITS[field]
        or any(ch.isspace() for ch in url)
    ):
        raise PlatformError("url", field)
    return url


def _link(raw: str, field: str) -> str:
    """A link citizens open (LINE, map): https only."""
    value = raw.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or len(value) > TEXT_LIMITS[field]:
        raise PlatformError("url", field)
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise PlatformError("url", field)
    return value


def _whole(raw: Any, field: str, low: int, high: int) -> int:
    text = str(raw).strip() or "0"
    if not text.isascii() or not text.isdigit() or len(text) > 7:
        raise PlatformError("number", field)
    value = int(text)
    if value != 0 and not low <= value <= high:
        raise PlatformError("number", field)
    return value


def _text(raw: Any, field: str) -> str:
    value = "\n".join(" ".join(line.split()) for line in str(raw).strip().splitlines())
    if len(value) > TEXT_LIMITS[field] or any(ord(ch) < 32 and ch != "\n" for ch in value):
        raise PlatformError("too_long", field)
    return value if field == "address" else value.replace("\n", " ")


def check_details(form: Mapping[str, Any], *, development: bool) -> dict[str, Any]:
    """The office page's fields (``DETAIL_FIELDS``) as the ``office`` columns will hold them.
    Empty means "the platform's setting" for the sender, budget, retention and base URLs."""
    values: dict[str, Any] = {"name": check_name(str(form.get("name", "")))}
    values["name_en"] = _text(form.get("name_en", ""), "name_en")
    for field in ("phone", "privacy_contact_phone"):
        phone = str(form.get(field, "")).strip()
        if phone and not PHONE.fullmatch(phone):
            raise PlatformError("phone", field)
        values[field] = phone
    for field in ("email", "privacy_contact_email"):
        email = str(form.get(field, "")).strip()
        if email and (not EMAIL.fullmatch(email) or len(email) > TEXT_LIMITS[field]):
            raise PlatformError("email", field)
        values[field] = email
    for field in ("line_url", "map_url"):
        values[field] = _link(str(form.get(field, "")), field)
    for field in ("address", "hours"):
        values[field] = _text(form.get(field, ""), field)
    values["sms_sender"] = check_sender(str(form.get("sms_sender", "")))
    values["sms_daily_budget"] = _whole(
        form.get("sms_daily_budget", ""), "sms_daily_budget", 1, MAX_BUDGET
    )
    values["retention_days"] = _whole(
        form.get("retention_days", ""), "retention_days", MIN_RETENTION_DAYS, MAX_RETENTION_DAYS
    )
    for field in ("base_url", "sms_link_base_url"):
        values[field] = _url(str(form.get(field, "")), field, allow_http=development)
    return values


def check_base_url(raw: str, *, development: bool) -> str:
    return _url(raw, "base_url", allow_http=development)
