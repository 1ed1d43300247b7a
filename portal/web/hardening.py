"""Small subclasses that turn malformed client input into 4xx answers instead of 500s.

- a form body with bytes that are not UTF-8, or a bogus ``charset``: Litestar's parser raises
  ``UnicodeDecodeError``/``LookupError``, and its CSRF middleware parses the form before it
  checks anything, so any visitor could provoke a 500;
- a NUL byte in a form field, which PostgreSQL refuses in text: dropped from every field;
- a session cookie whose readable part is not valid JSON: Litestar only forgives a bad
  signature, so a mangled cookie would break every page until it expired;
- a static file name with a NUL byte or longer than the file system allows: Litestar's static
  files router turns the ``ValueError``/``OSError`` into a 500.

And one guard against another site's links: ``same_site_navigation`` (see there).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict
from litestar.exceptions import (
    ClientException,
    NotFoundException,
    PermissionDeniedException,
    SerializationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.client_side import (
    ClientSideSessionBackend,
    CookieBackendConfig,
)
from litestar.plugins.htmx import HTMXRequest

logger = logging.getLogger("portal")


class PortalRequest(HTMXRequest):
    async def form(self) -> FormMultiDict:
        try:
            parsed = await super().form()
        except (UnicodeDecodeError, LookupError) as error:
            raise ClientException(detail="malformed form body") from error
        return _without_nul(parsed)


def _without_nul(form: FormMultiDict) -> FormMultiDict:
    """NUL bytes dropped from every field: no form means one, and PostgreSQL refuses them in
    text with an error (a staff note with one was a 500)."""

    def clean(value: Any) -> Any:
        return value.replace("\x00", "") if isinstance(value, str) else value

    pairs = list(form.multi_items())
    if all(clean(key) == key and clean(value) == value for key, value in pairs):
        return form
    return FormMultiDict([(clean(key), clean(value)) for key, value in pairs])


class TolerantCookieSessionBackend(ClientSideSessionBackend):
    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        try:
            return await super().load_from_connection(connection)
        except (SerializationException, KeyError, TypeError, ValueError):
            logger.info("ignored a malformed session cookie")
            return {}


@dataclass
class TolerantCookieBackendConfig(CookieBackendConfig):
    _backend_class = TolerantCookieSessionBackend


NAME_MAX = 255
"""Bytes in one file name on Linux file systems (ext4, xfs, tmpfs)."""


def static_path_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """No file under ``/static`` has a name the file system would refuse (a NUL byte, a name
    too long): answer 404 before Litestar asks the file system and turns its error into a 500."""
    file_path = str(connection.path_params.get("file_path", ""))
    if "\x00" in file_path or any(
        len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in file_path.split("/")
    ):
        raise NotFoundException()


def whole_number(raw: str, *, max_digits: int) -> int | None:
    """A number typed in ASCII digits, or None. ``str.isdigit`` also says yes to "²", which
    ``int`` refuses with a ValueError (a 500 from a query string)."""
    if raw.isascii() and raw.isdigit() and 0 < len(raw) <= max_digits:
        return int(raw)
    return None


def query_text(raw: object, limit: int) -> str:
    """A query-string value as text, without NUL bytes (PostgreSQL refuses them in a
    parameter with an error), cut to ``limit`` characters."""
    return str(raw).replace("\x00", "")[:limit]


SAME_SITE_FETCHES = frozenset({"same-origin", "none"})
"""``Sec-Fetch-Site`` values of a navigation the officer made in the portal itself
(``same-origin``) or by typing the address or opening a bookmark (``none``)."""


class CrossSiteNavigation(PermissionDeniedException):
    """A GET that reads personal data in the officer's name, started by another site."""


def same_site_navigation(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Audited reads only for navigations that started in the portal (or a typed address).

    A GET is sent with the officer's session cookie (``SameSite=Lax``) when another site, an
    e-mail or a chat app links to it, so without this any page could make a signed-in
    officer's browser open a request: personal data on their screen and a ``view_request``
    row in their name. ``cross-site`` and ``same-site`` (a sibling host under the office's
    domain, which the portal does not control) are refused with a page that offers the same
    address as a link: one more click from inside the portal, which the browser then sends as
    ``same-origin``. Browsers that send no ``Sec-Fetch-Site`` at all (before Chrome 76,
    Firefox 90, Safari 16.4) are let through: refusing them would lock out old office PCs, and
    state-changing actions are POSTs with CSRF tokens anyway.
    """
    site = connection.headers.get("sec-fetch-site")
    if site is not None and site.strip().lower() not in SAME_SITE_FETCHES:
        raise CrossSiteNavigation()
