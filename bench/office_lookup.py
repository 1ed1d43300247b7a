"""The office lookup's cost and its invalidation, for bench/offices.py.

``lookup_costs`` times ``OfficeDirectory.for_host`` call by call in this process (every office
in memory), the resolver layer around a do-nothing app, the periodic change check and a full
load. ``invalidation`` changes an office here, through the portal's own tables and ``touch``,
and times how long a running server's workers take to answer accordingly.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from bench.client import Browser
from bench.load import percentile
from bench.office_data import host_of
from bench.servers import WORKER_HEADER, Server


def ms(ns: float) -> float:
    return round(ns / 1e6, 4)


def spread(values_ns: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 / max / mean of nanosecond timings, in milliseconds."""
    return {f"p{q}": ms(percentile(values_ns, q)) for q in (50, 95, 99)} | {
        "max": ms(max(values_ns, default=0)),
        "mean": ms(sum(values_ns) / len(values_ns)) if values_ns else 0.0,
    }


async def _timed(call: Any, count: int) -> list[float]:
    samples: list[float] = []
    for _ in range(count):
        started = time.perf_counter_ns()
        await call()
        samples.append(time.perf_counter_ns() - started)
    return samples


async def lookup_costs(settings: Any, offices: int, lookups: int) -> dict[str, Any]:
    """``for_host`` call by call, with every office in memory; the resolver layer's own cost."""
    from portal.kernel.offices import CHECK_EVERY_S, OfficeDirectory
    from portal.web.offices import OfficeResolver

    hosts = [host_of(rank) for rank in range(1, offices + 1)]
    random.Random(6).shuffle(hosts)
    directory = OfficeDirectory(settings)
    started = time.perf_counter_ns()
    first = await directory.for_host(hosts[0])
    cold = time.perf_counter_ns() - started
    if first is None or len(await directory.all()) < offices:
        raise RuntimeError(f"the directory does not hold the {offices} offices")
    picks = iter([hosts[i % len(hosts)] for i in range(lookups)])
    found = 0

    async def lookup() -> None:
        nonlocal found
        found += (await directory.for_host(next(picks))) is not None

    warm = await _timed(lookup, lookups)

    async def check() -> None:  # the "did anything change" query, nothing changed
        directory.forget()
        await directory.for_host(hosts[0])

    checks = await _timed(check, 200)

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    resolver = OfficeResolver(inner, directory, settings)
    scopes = [
        {
            "type": "http",
            "path": "/_bench/bare",
            "root_path": "",
            "headers": [(b"host", h.encode())],
        }
        for h in hosts
    ]
    rounds = iter(range(lookups))

    async def bare() -> None:
        await inner(dict(scopes[next(rounds) % len(scopes)]), None, None)

    async def resolved() -> None:
        await resolver(dict(scopes[next(rounds) % len(scopes)]), None, None)  # type: ignore[arg-type]

    without = await _timed(bare, lookups)
    rounds = iter(range(lookups))
    with_layer = await _timed(resolved, lookups)
    return {
        "offices_in_memory": len(await directory.all()),
        "lookups": lookups,
        "found": found,
        "for_host_ms": spread(warm),
        "change_check_ms": spread(checks),
        "change_check_every_s": CHECK_EVERY_S,
        "cold_load_ms": ms(cold),
        "resolver_layer_ms": spread(with_layer),
        "no_layer_ms": spread(without),
        "resolver_extra_p50_ms": round(ms(percentile(with_layer, 50) - percentile(without, 50)), 4),
        "resolver_extra_p95_ms": round(ms(percentile(with_layer, 95) - percentile(without, 95)), 4),
    }


async def _answers(server: Server, host: str) -> tuple[int, str]:
    browser = Browser(server.port, "127.0.0.1", host)
    try:
        response = await browser.get("/_bench/bare")
    finally:
        await browser.close()
    return response.status, response.headers.get(WORKER_HEADER, "")


async def _until(server: Server, host: str, status: int, timeout: float = 10.0) -> float | None:
    """Seconds until every worker answers ``status`` for ``host`` (new connection each time)."""
    started = time.perf_counter()
    switched: set[str] = set()
    while time.perf_counter() - started < timeout:
        got, worker = await _answers(server, host)
        if got == status:
            switched.add(worker)
            if len(switched) >= server.workers:
                return round(time.perf_counter() - started, 4)
        await asyncio.sleep(0.002)
    return None


async def invalidation(server: Server, trials: int) -> dict[str, Any]:
    """Change an office here; time until the server's worker(s) see it."""
    from portal.kernel.offices import CHECK_EVERY_S, touch
    from portal.tables.office import Office, OfficeHost

    rng = random.Random(16)
    added, disabled = [], []
    for trial in range(trials):
        slug = f"o{10 + trial}"
        row = await Office.select(Office.id).where(Office.slug == slug).first()
        if row is None:
            raise RuntimeError(f"no office {slug}")
        office_id = row["id"]
        host = f"added{trial}.bench.test"
        if (await _answers(server, host))[0] != 404:
            raise RuntimeError(f"{host} answered before it was added")
        await asyncio.sleep(rng.uniform(0, CHECK_EVERY_S))  # anywhere in the check cycle
        await OfficeHost.insert(OfficeHost(host=host, office=office_id))
        await touch(office_id)
        added.append(await _until(server, host, 200))
        await asyncio.sleep(rng.uniform(0, CHECK_EVERY_S))
        await Office.update({Office.active: False}).where(Office.id == office_id)
        await touch(office_id)
        disabled.append(await _until(server, host, 404))
        await Office.update({Office.active: True}).where(Office.id == office_id)
        await touch(office_id)
    seen = [d for d in added + disabled if d is not None]
    return {
        "check_every_s": CHECK_EVERY_S,
        "workers": server.workers,
        "host_added_s": added,
        "office_disabled_s": disabled,
        "missed": sum(d is None for d in added + disabled),
        "max_s": max(seen, default=0.0),
        "mean_s": round(sum(seen) / len(seen), 4) if seen else 0.0,
    }
