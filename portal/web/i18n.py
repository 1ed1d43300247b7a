"""Thai first, English on request: message catalogues for the citizen pages.

Templates mark text with ``{% trans %}`` or ``_()``; the Thai text is the message id, so a
page reads naturally in the template and a missing translation falls back to Thai. The English
catalogue is ``portal/locale/en/LC_MESSAGES/messages.po`` (edit it with any PO editor; extract
new messages with ``pybabel extract -F babel.cfg``). The language is the citizen's choice,
kept in a cookie by ``/lang/<code>``; there is no guessing from the browser, since a Thai phone
set to English is common and the office's language is Thai.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from portal.web.security_headers import HOST_PREFIX

LANGUAGES = ("th", "en")
DEFAULT_LANGUAGE = "th"
LANGUAGE_COOKIE = "portal_lang"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def load_catalogues(locale_dir: Path = LOCALE_DIR) -> dict[str, dict[str, str]]:
    catalogues: dict[str, dict[str, str]] = {DEFAULT_LANGUAGE: {}}
    for language in LANGUAGES:
        path = locale_dir / language / "LC_MESSAGES" / "messages.po"
        if not path.exists():
            continue
        with path.open("rb") as handle:
            catalogue = read_po(handle)
        catalogues[language] = {
            str(message.id): str(message.string)
            for message in catalogue
            if message.id and message.string and not message.fuzzy
        }
    return catalogues


def language_from_cookies(cookies: Mapping[str, str]) -> str:
    # ``__Host-portal_lang`` outside development (see ``language_routes.set_language``).
    language = cookies.get(HOST_PREFIX + LANGUAGE_COOKIE) or cookies.get(
        LANGUAGE_COOKIE, DEFAULT_LANGUAGE
    )
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def _language(context: Context) -> str:
    request = context.get("request")
    cookies = getattr(request, "cookies", None) or {}
    return language_from_cookies(cookies)


def install(env: Environment, catalogues: dict[str, dict[str, str]]) -> None:
    """Add ``{% trans %}``, ``_()`` and ``current_language()`` to the template environment.

    The request is read from each template's context, so macros that show text must be
    imported ``with context``.
    """

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        text = catalogues.get(_language(context), {}).get(message, message)
        return text % variables if variables else text

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, count: int, **variables: Any) -> str:
        return gettext(context, singular if count == 1 else plural, count=count, **variables)

    @pass_context
    def current_language(context: Context) -> str:
        return _language(context)

    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["current_language"] = current_language

    @pass_context
    def pick(context: Context, thai: str, english: str | None) -> str:
        """Office-written text (service names, field labels): English when there is some."""
        return english if english and _language(context) == "en" else thai

    env.globals["pick"] = pick
