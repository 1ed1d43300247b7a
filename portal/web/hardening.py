"""Small subclasses that turn malformed client input into 4xx answers instead of 500s.

- a form body with bytes that are not UTF-8, or a bogus ``charset``: Litestar's parser raises
  ``UnicodeDecodeError``/``LookupError``, and its CSRF middleware parses the form before it
  checks anything, so any visitor could provoke a 500;
- a session cookie whose readable part is not valid JSON: Litestar only forgives a bad
  signature, so a mangled cookie would break every page until it expired.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import FormMultiDict
from litestar.exceptions import ClientException, SerializationException
from litestar.middleware.session.client_side import (
    ClientSideSessionBackend,
    CookieBackendConfig,
)
from litestar.plugins.htmx import HTMXRequest

logger = logging.getLogger("portal")


class PortalRequest(HTMXRequest):
    async def form(self) -> FormMultiDict:
        try:
            return await super().form()
        except (UnicodeDecodeError, LookupError) as error:
            raise ClientException(detail="malformed form body") from error


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
