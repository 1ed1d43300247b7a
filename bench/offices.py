"""Many offices, one platform (issue 16, "Speed and scale"): what 1,000 offices cost a request.

    bench/run offices                                  # about 6 minutes on 2 cores
    .venv/bin/python -m bench.offices --offices 20 --requests 2000 --largest 500 \\
        --journey-seconds 3 --rounds 1 --ceiling-seconds 2     # a quick try

It starts three portals side by side (each as ``portal serve`` would, 127.0.0.1 only, SQLite):
a single office on an empty database (today's deployment, as bench/run measures it); 1,000
offices with 10 services each and about 100,000 requests spread Zipf-like over them (a few
offices with thousands, most with tens: ``bench/office_data.py``), each office answering on
``o<k>.bench.test``; and, to tell what the number of offices costs from what the amount of
data costs, a single office holding those same 100,000 requests. Then, in the same run:

1. complete citizen journeys (``bench/journey.py``: phone, code, form, success, tracking) at
   the highest closed-loop rate on each single office and on the largest and the smallest of
   the 1,000, reached by their Host header; the targets alternate in rounds so that whatever
   else the machine does falls on all of them alike. Target: no more than 5 % below today's
   single office. The server's CPU per journey is shown beside the rate (less noisy).
2. the office lookup (``bench/office_lookup.py``): ``OfficeDirectory.for_host`` with the
   1,000 offices in memory, timed call by call in this process (target under 0.1 ms), the
   resolver layer around a do-nothing app, the periodic "did anything change" query, a full
   load; and over HTTP a bare Litestar route (inside the resolver) on the empty single office
   and on the 1,000, with ``/healthz`` (outside it).
3. invalidation: this process adds a host name to an office, then disables it, through the
   portal's own tables and ``touch``; the server's worker(s) must answer accordingly within
   the check interval (``CHECK_EVERY_S``). The delays are printed.

Results: ``bench/results/offices.json`` and ``.md`` (``--output``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import journey as steps
from bench.load import RESULTS, ceiling, journeys_closed
from bench.office_data import host_of, populate_one_office, populate_sqlite, zipf_sizes
from bench.office_lookup import invalidation, lookup_costs
from bench.report import offices_markdown
from bench.servers import Server, server_env, start_server

SETTINGS = (
    "offices",
    "services",
    "requests",
    "largest",
    "workers",
    "users",
    "rounds",
    "warmup_seconds",
    "journey_seconds",
    "ceiling_seconds",
    "lookups",
    "trials",
    "same_data",
)
EMPTY = "single office, empty (today's figure)"
SAME_DATA = "single office holding every request"
JOURNEY_TARGET = 0.05
"""Journeys per second at one office of 1,000 within 5 % of a single-office deployment."""


def _combine(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Several rounds of one journey target as one figure."""
    seconds = sum(r["seconds"] for r in rounds)
    journeys = sum(r["journeys"] for r in rounds)
    cpu = sum(r["server_cpu_cores"] * r["seconds"] for r in rounds)
    return {
        "journeys": journeys,
        "seconds": round(seconds, 1),
        "journeys_per_s": round(journeys / seconds, 2) if seconds else 0.0,
        "requests_per_s": round(sum(r["requests"] for r in rounds) / seconds, 1) if seconds else 0,
        "server_cpu_ms_per_journey": round(1000 * cpu / journeys, 1) if journeys else 0.0,
        "p50_ms": round(sum(r["latency_ms"]["p50"] for r in rounds) / len(rounds), 2),
        "p95_ms": round(sum(r["latency_ms"]["p95"] for r in rounds) / len(rounds), 2),
        "errors": sum(r["errors"] for r in rounds),
        "error_samples": [s for r in rounds for s in r["error_samples"]][:5],
        "rounds_journeys_per_s": [r["journeys_per_s"] for r in rounds],
        "steps_p50_ms": {
            step: round(
                sum(r["latency_ms_by_step"].get(step, {}).get("p50", 0) for r in rounds)
                / len(rounds),
                2,
            )
            for step in rounds[0]["latency_ms_by_step"]
        },
    }


async def journeys(
    targets: Mapping[str, tuple[Server, steps.Outbox, str]], args: argparse.Namespace
) -> dict[str, Any]:
    """Warm each target up, then ``rounds`` rounds of every target in turn."""
    n = 0
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    for phase in range(args.rounds + 1):
        for name, (server, outbox, host) in targets.items():
            seconds = args.warmup_seconds if phase == 0 else args.journey_seconds
            label = "warm-up" if phase == 0 else f"round {phase}/{args.rounds}"
            print(f"  journeys {name}: {label} ({seconds:.0f} s)", file=sys.stderr)
            figures, _ = await journeys_closed(server, outbox, seconds, args.users, n, host)
            n += figures["journeys"] + figures["errors"] + args.users  # fresh phones each time
            if phase:
                rounds[name].append(figures)
    result = {name: _combine(figures) for name, figures in rounds.items()}

    def change(figures: dict[str, Any], base: str) -> float | None:
        rate = result[base]["journeys_per_s"] if base in result else 0
        return round(100 * (figures["journeys_per_s"] - rate) / rate, 1) if rate else None

    for figures in result.values():
        figures["vs_single_percent"] = change(figures, EMPTY)
        figures["vs_same_data_percent"] = change(figures, SAME_DATA)
    return result


async def bare_route(single: Server, many: Server, args: argparse.Namespace) -> dict[str, Any]:
    """A cheap page inside the resolver on both portals, and ``/healthz`` outside it."""
    hosts = [host_of(rank) for rank in range(1, args.offices + 1)]
    random.Random(7).shuffle(hosts)
    phases = {
        "single office /_bench/bare": (single, "/_bench/bare", ()),
        f"{args.offices} offices /_bench/bare (every host)": (many, "/_bench/bare", hosts),
        "single office /healthz (outside)": (single, "/healthz", ()),
        f"{args.offices} offices /healthz (outside)": (many, "/healthz", hosts),
    }
    result: dict[str, Any] = {}
    for name, (server, path, names) in phases.items():
        print(f"  ceiling {name} ({args.ceiling_seconds:.0f} s)", file=sys.stderr)
        result[name] = await ceiling(server, path, args.ceiling_seconds, args.users, names)
    return result


@dataclass
class Portal:
    """One of the portals under test and its database."""

    server: Server
    database: str

    @property
    def path(self) -> str:
        return self.database.removeprefix("sqlite:///")


async def measure(portals: dict[str, Portal], args: argparse.Namespace) -> dict[str, Any]:
    from portal.db import close_pool, configure_database, start_pool
    from portal.settings import load_settings

    outboxes = {name: steps.SqliteOutbox(portal.path) for name, portal in portals.items()}
    many = portals["many"]
    targets = {
        EMPTY: (portals["empty"].server, outboxes["empty"], ""),
        f"largest of {args.offices} (o1)": (many.server, outboxes["many"], host_of(1)),
        f"smallest of {args.offices} (o{args.offices})": (
            many.server,
            outboxes["many"],
            host_of(args.offices),
        ),
    }
    if "same" in portals:
        targets[SAME_DATA] = (portals["same"].server, outboxes["same"], "")
    settings = load_settings(server_env(many.database, many.server.data_dir, 0, None))
    configure_database(many.database)
    await start_pool()
    try:
        result = {"journeys": await journeys(targets, args)}
        result["bare_route"] = await bare_route(portals["empty"].server, many.server, args)
        print(f"  lookups ({args.lookups} calls)", file=sys.stderr)
        result["lookup"] = await lookup_costs(settings, args.offices, args.lookups)
        print(f"  invalidation ({args.trials} trials)", file=sys.stderr)
        result["invalidation"] = await invalidation(many.server, args.trials)
    finally:
        await close_pool()
        for outbox in outboxes.values():
            await outbox.close()
    return result


def _last_traceback(server: Server) -> str:
    text = server.log_path.read_text(errors="replace")
    at = text.rfind("Traceback")
    if at < 0:
        return f"{server.database}: no traceback in the log"
    return f"{server.database}: " + text[at:].split("\nINFO:", 1)[0][-4000:]


def _builder(
    fill: Callable[[str], dict[str, Any]], path: str, into: dict[str, Any], name: str
) -> Callable[[], None]:
    """What ``start_server`` runs between the migrations and uvicorn: fill the database."""

    def build() -> None:
        into[name] = fill(path)

    return build


def start_portals(
    stack: ExitStack, args: argparse.Namespace, sizes: list[int], built: dict[str, Any]
) -> dict[str, Portal]:
    """The empty single office, the same one holding every request (unless
    ``--no-same-data``), and the many offices; each in a temporary folder of its own."""
    fillers: dict[str, Callable[[str], dict[str, Any]]] = {"empty": lambda path: {}}
    if args.same_data:
        fillers["same"] = lambda path: populate_one_office(path, sum(sizes))
    fillers["many"] = lambda path: populate_sqlite(path, sizes, args.services)
    portals: dict[str, Portal] = {}
    for name, fill in fillers.items():
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="portal-offices-")))
        database = f"sqlite:///{folder / f'{name}.sqlite3'}"
        print(f"{name}: building the database, starting the portal", file=sys.stderr)
        build = _builder(fill, database.removeprefix("sqlite:///"), built, name)
        server = start_server(
            database_url=database, workers=args.workers, data_dir=folder, before_start=build
        )
        stack.callback(server.stop)
        portals[name] = Portal(server, database)
    return portals


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = zipf_sizes(args.offices, args.requests, args.largest)
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "label": args.label,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "load_average_at_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "settings": {key: getattr(args, key) for key in SETTINGS},
        "journey_target_percent": 100 * JOURNEY_TARGET,
        "journey_base": EMPTY,
        "journey_same_data": SAME_DATA if args.same_data else None,
    }
    built: dict[str, Any] = {}
    with ExitStack() as stack:
        portals = start_portals(stack, args, sizes, built)
        report["database"] = built["many"]
        report["same_data_database"] = built.get("same")
        report.update(asyncio.run(measure(portals, args)))
        if any(figures["errors"] for figures in report["journeys"].values()):
            for portal in portals.values():  # the log goes with its temporary folder
                print(_last_traceback(portal.server), file=sys.stderr)
        report["peak_rss_mb"] = {name: p.server.peak_rss() for name, p in portals.items()}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.offices", description=__doc__.splitlines()[0])
    option = parser.add_argument
    option("--offices", type=int, default=1000)
    option("--services", type=int, default=10, help="services per office")
    option("--requests", type=int, default=100_000, help="requests in all, Zipf-like spread")
    option("--largest", type=int, default=20_000, help="requests of the largest office")
    option("--workers", type=int, default=1, help="uvicorn workers of each portal")
    option("--users", type=int, default=32, help="concurrent browsers")
    option("--rounds", type=int, default=3, help="rounds of journeys at each target")
    option("--warmup-seconds", type=float, default=3)
    option("--journey-seconds", type=float, default=15, help="per target and round")
    option("--ceiling-seconds", type=float, default=5)
    option("--lookups", type=int, default=100_000)
    option("--trials", type=int, default=5, help="invalidation trials")
    option(
        "--no-same-data",
        dest="same_data",
        action="store_false",
        help="skip the single office holding every request (what data alone costs)",
    )
    option("--label", default="")
    option("--output", default="offices", help="results file name, no extension")
    args = parser.parse_args(argv)
    if (
        not 1 <= args.offices <= 10_000
        or args.requests > 1_000_000
        or args.trials > args.offices - 10
    ):
        parser.error("--offices 1..10000, --requests up to 1,000,000, --trials below offices - 10")
    report = run(args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = offices_markdown(report)
    (RESULTS / f"{args.output}.md").write_text(text)
    print(text)
    print(f"results: {RESULTS / args.output}.json and .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    sys.exit(main())
