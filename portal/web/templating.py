"""Jinja globals every page needs: the office (``current_office()``), the environment, dates."""

from __future__ import annotations

from datetime import datetime

from babel.dates import get_month_names
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from portal.kernel.clock import BANGKOK, BUDDHIST_ERA_OFFSET
from portal.settings import Settings
from portal.web import i18n, offices
from portal.web.assets import AssetManifest

THAI_MONTHS_ABBR = tuple(
    get_month_names("abbreviated", locale="th")[month] for month in range(1, 13)
)
"""ม.ค. ... ธ.ค., from the Unicode CLDR data Babel ships (no Thai text kept in Python)."""


def thai_date(moment: datetime, with_time: bool = True) -> str:
    """26 พ.ย. 2569 21:05 — Buddhist era, Bangkok time, as Thai offices write it."""
    local = moment.astimezone(BANGKOK)
    text = f"{local.day} {THAI_MONTHS_ABBR[local.month - 1]} {local.year + BUDDHIST_ERA_OFFSET}"
    return f"{text} {local:%H:%M}" if with_time else text


def english_date(moment: datetime, with_time: bool = True) -> str:
    """26 Nov 2026 21:05 — Gregorian for the English pages, still Bangkok time."""
    local = moment.astimezone(BANGKOK)
    return f"{local.day} {local:%b %Y}" + (f" {local:%H:%M}" if with_time else "")


@pass_context
def local_date(context: Context, moment: datetime, with_time: bool = True) -> str:
    if i18n.language_from_cookies(getattr(context.get("request"), "cookies", None) or {}) == "en":
        return english_date(moment, with_time)
    return thai_date(moment, with_time)


def _size_text(size: int) -> str:
    """10 MB, 500 KB: the upload limit as people read it."""
    mib = 1024 * 1024
    return f"{size // mib} MB" if size >= mib else f"{size // 1024} KB"


def configure_environment(
    env: Environment, settings: Settings, assets: AssetManifest, *, otp_valid_minutes: int
) -> None:
    """``otp_valid_minutes`` comes as a plain number: the web layer knows no feature."""
    env.globals["current_office"] = offices.current_office
    env.globals["url_for"] = offices.prefixed_url_for
    env.globals["is_development"] = settings.is_development
    env.globals["asset_url"] = assets.url
    i18n.install(env, i18n.load_catalogues())
    env.globals["otp_valid_minutes"] = otp_valid_minutes
    env.globals["attachment_max_size"] = _size_text(settings.attachment_max_bytes)
    env.globals["attachment_max_bytes"] = settings.attachment_max_bytes
    env.filters["thai_date"] = local_date
