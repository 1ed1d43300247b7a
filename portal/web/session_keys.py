"""The session cookie after ``PORTAL_SECRET_KEY`` changes: still read until it expires.

Litestar seals the whole session (AES-GCM) with one secret, so a new secret would sign every
officer out and drop every citizen's verified phone. This backend opens a cookie with the
current key first and then with the keys from ``PORTAL_OLD_SECRET_KEYS`` (the secret given is
a ``portal.keyring.KeyRing``); the response re-seals the session with the current key, so a
browser moves to it on its next page. A cookie no key opens is an empty session, as before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from cryptography.exceptions import InvalidTag
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig

from portal.keyring import as_ring
from portal.web.hardening import TolerantCookieBackendConfig, TolerantCookieSessionBackend


class RotatingCookieSessionBackend(TolerantCookieSessionBackend):
    def __init__(self, config: CookieBackendConfig) -> None:
        super().__init__(config)
        # One plain backend per older key, only ever asked to read.
        self.older_backends = [
            ClientSideSessionBackend(replace(config, secret=key))
            for key in as_ring(config.secret).older
        ]

    def load_data(self, data: list[bytes]) -> dict[str, Any]:
        try:
            return super().load_data(data)
        except InvalidTag:
            if not self.older_backends:
                raise
        for backend in self.older_backends:
            try:
                return backend.load_data(data)
            except InvalidTag:
                continue
        raise InvalidTag()


@dataclass
class RotatingCookieBackendConfig(TolerantCookieBackendConfig):
    _backend_class = RotatingCookieSessionBackend
