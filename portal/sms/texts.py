"""SMS texts are Jinja templates under ``templates/sms/``, so translators find them beside the
pages. Plain text, no autoescaping: an SMS is not HTML.

Every text fits one Thai SMS part (70 UCS-2 characters, ``portal/sms/parts.py``) when its link
base (``PORTAL_SMS_LINK_BASE_URL``) is at most ``MAX_LINK_BASE_LENGTH`` characters: the link is
base + ``/t/`` + a 22-character token, and the words around it are terse on purpose.
tests/sms/test_parts.py does the arithmetic for every template.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from portal.kernel.tracking_links import TOKEN_LENGTH, tracking_link
from portal.sms.parts import sms_parts
from portal.sms.parts import ucs2_parts as ucs2_parts  # re-exported for older callers
from portal.tables.citizen_request import RequestStatus

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_LINK_BASE_LENGTH = 20
"""Longest link base (``https://oss.go.th`` is 17) with which every SMS stays one part."""
WEBOTP_HOST = re.compile(r"[a-z0-9.-]+")
"""What Chrome reads after the ``@`` of an origin-bound code line (no port, no brackets)."""


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,  # noqa: S701
        extensions=["jinja2.ext.i18n"],
    )
    # SMS go out in Thai (the shared status words are marked for the pages' translations).
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


def sms_environment() -> Environment:
    """The Jinja environment of the SMS templates (tests read their variables from it)."""
    return _environment()


def render_sms(template_name: str, **context: Any) -> str:
    # Rooted at templates/ so an SMS can share macros (status labels) with the pages.
    text = _environment().get_template(f"sms/{template_name}").render(**context)
    return " ".join(text.split())


def webotp_host(base_url: str) -> str:
    """The page's own host for the WebOTP line, or "" when Chrome could not read it back."""
    host = urlsplit(base_url).hostname or ""
    return host if WEBOTP_HOST.fullmatch(host) else ""


def with_webotp_line(text: str, *, host: str, code: str) -> str:
    """Add the origin-bound code line (``@host #code``, last line) that lets Android Chrome
    (WebOTP) and Safari fill the code in, only while the whole SMS still fits one part."""
    if not host:
        return text
    longer = f"{text}\n@{host} #{code}"
    return longer if sms_parts(longer) == 1 else text


LINK_TEMPLATES = ("receipt.txt", "status.txt", "phone_changed.txt")


def link_sms_parts(link_base: str) -> int:
    """Parts of the longest SMS carrying a link on ``link_base`` (``portal check``); the full
    arithmetic for every template is tests/sms/test_parts.py."""
    url = tracking_link(link_base, "x" * TOKEN_LENGTH)
    texts = [
        render_sms(name, number="69-999999", status=status.value, tracking_url=url)
        for name in LINK_TEMPLATES
        for status in RequestStatus
    ]
    return max(sms_parts(text) for text in texts)
