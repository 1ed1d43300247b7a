"""The outermost layer of the app: request ids, the request log and HTTP metrics, and the
operations endpoints ``/healthz``, ``/readyz`` and ``/metrics``.

It wraps Litestar's own handler (router plus exception handling), so it sees every request,
404s and refused bodies included, with the status the client really got, and gives each an id
before any error page is drawn (the page shows it). The three endpoints are answered here,
before routing: no session, no CSRF cookie, no middleware, no cookie set, no route to crawl.

- ``GET /healthz``: 200 ``{"status": "ok"}`` while the process answers; asks nothing else
  (a liveness probe that restarts the process when the database is down would only make
  things worse).
- ``GET /readyz``: 200 or 503 with each check's state (``portal.ops.readiness``).
- ``GET /metrics``: Prometheus text (``portal.ops.metrics``) for those allowed; anyone else is
  passed on to the router, which answers its ordinary 404 page: the refusal looks exactly like
  a page that does not exist.

The probes and scrapes are left out of the request log (they come every few seconds and say
nothing); they are still counted in the HTTP metrics.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from time import perf_counter
from typing import Any

from litestar import Litestar
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Send,
)

from portal.ops import business, metrics, readiness
from portal.settings import Settings
from portal.web.log_format import request_line
from portal.web.request_id import HEADER, current, request_id_for

HEALTHZ = "/healthz"
READYZ = "/readyz"
METRICS = "/metrics"
OPS_PATHS = frozenset({HEALTHZ, READYZ, METRICS})
JSON_TYPE = b"application/json"


class OpsGateway:
    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        self.app = app
        self.settings = settings
        self.behind_proxy = bool(settings.forwarded_allow_ips)
        self.headers = list(headers)
        """The app's own response headers (the development worker tag), on these answers too."""

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(list(scope["headers"]), behind_proxy=self.behind_proxy)
        context = current.set(request_id)
        started = perf_counter()
        status = 500
        id_header = (HEADER.encode(), request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        method, path = scope["method"], scope["path"]
        answered_here = False
        try:
            if method in ("GET", "HEAD") and path in OPS_PATHS:
                answered_here = await self._answer(scope, send_with_id)
            if not answered_here:
                await self.app(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter() - started
            route = path if answered_here else metrics.route_label(scope.get("path_template"))
            metrics.observe(method, route, status, elapsed)
            if not answered_here:
                request_line(
                    request_id=request_id,
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=elapsed * 1000,
                )
            current.reset(context)

    async def _answer(self, scope: Any, send: Send) -> bool:
        """Answer an operations endpoint; False: let the router answer (a refused scrape)."""
        path = scope["path"]
        if path == HEALTHZ:
            status, content_type, body = 200, JSON_TYPE, _json({"status": "ok"})
        elif path == READYZ:
            found = await readiness.check(self.settings)
            status, content_type = (200 if found.ready else 503), JSON_TYPE
            body = _json(found.body())
        else:
            if not metrics.allowed(scope, self.settings.metrics_token):
                return False
            families = await business.collect(self.settings)
            status, content_type = 200, metrics.CONTENT_TYPE.encode()
            body = metrics.exposition(families)
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            *self.headers,
        ]
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": status,
            "headers": headers,
        }
        await send(start)
        body_event: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": b"" if scope["method"] == "HEAD" else body,
            "more_body": False,
        }
        await send(body_event)
        return True


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def install(app: Litestar, settings: Settings) -> Litestar:
    """Put the gateway around the app's handler (inside Litestar's ``before_send`` hooks, so
    the security headers still reach every answer, these included)."""
    own = [(h.name.lower().encode(), (h.value or "").encode()) for h in app.response_headers or ()]
    app.asgi_handler = OpsGateway(app.asgi_handler, settings, own)
    return app
