"""``/metrics`` in Prometheus text format, and who may read it.

Two kinds of figure, each from where it is true:

- **HTTP** (requests by method, route template and status; a latency histogram by method and
  route): counted by each process as it answers. ``portal serve --workers N`` runs N processes,
  so the serve command points ``PROMETHEUS_MULTIPROC_DIR`` at ``<data dir>/metrics`` (emptied
  at every start, before the workers exist: ``portal.ops.multiproc``) and prometheus-client's
  multiprocess mode adds up every worker's files at each scrape: any worker answers for all.
  Routes are templates (``/t/{token}``), never the address itself, which holds tracking tokens.
- **Business** (OTP codes, SMS by state and backend, queue age, budget, filings by service):
  read from the database at each scrape (``business.py``), so they hold across workers,
  restarts and ``portal sms worker``, with nothing to keep in step.

Access: with ``PORTAL_METRICS_TOKEN`` set, only ``Authorization: Bearer <token>``; without
it, only a direct connection from this machine (a loopback peer with no proxy header: behind
nginx every request comes from loopback, and one that went through the proxy carries
``X-Forwarded-For``). Anyone else gets the portal's ordinary 404 page.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, values
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from portal.ops.multiproc import MULTIPROC_ENV

CONTENT_TYPE = CONTENT_TYPE_LATEST
PROXY_HEADERS = frozenset(
    {b"x-forwarded-for", b"x-real-ip", b"forwarded", b"x-forwarded-host", b"x-forwarded-proto"}
)
"""Headers a reverse proxy adds: a request with any of them came through one."""
UNMATCHED = "unmatched"
"""The route label of a request no route answered (a 404 or 405 from the router)."""

HTTP_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"),
    registry=HTTP_REGISTRY,
)
LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=HTTP_REGISTRY,
)

_TYPED_PARAMETER = re.compile(r"\{(\w+):[^}]*\}")


def route_label(path_template: str | None) -> str:
    """``/t/{token:str}`` -> ``/t/{token}``; no template (nothing matched) -> ``unmatched``."""
    if not path_template:
        return UNMATCHED
    return _TYPED_PARAMETER.sub(r"{\1}", path_template)


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Any other method a client makes up is counted as ``OTHER``: labels must stay few."""


def observe(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in KNOWN_METHODS else "OTHER"
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def multiprocess_dir() -> str | None:
    """The shared directory when this process counts in multiprocess mode (decided when
    prometheus-client was first imported), else None: this process's own counts are all."""
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get(MULTIPROC_ENV) or None


def allowed(scope: Any, token: str | None) -> bool:
    """May this request read the metrics (see the module doc)? Constant-time on the token."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    if token is not None:
        expected = b"Bearer " + token.encode()
        given = next((value for name, value in headers if name == b"authorization"), b"")
        return hmac.compare_digest(given, expected)
    if any(name in PROXY_HEADERS for name, _ in headers):
        return False
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(str(client[0])).is_loopback
    except ValueError:
        return False


class _Collected(Collector):
    """Families gathered before the scrape (the database read is async, exposition is not)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def exposition(business: Iterable[Metric]) -> bytes:
    """The scrape's text: every worker's HTTP figures, then the business ones."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory is not None:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Collected(HTTP_REGISTRY.collect()))
    registry.register(_Collected(business))
    return generate_latest(registry)
