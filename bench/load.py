"""Load benchmark: complete citizen journeys against a portal it starts itself.

    bench/run                     # SQLite/1 worker, PostgreSQL/1 and /2 workers (throwaway PG)
    bench/run --profile           # and a py-spy profile (pip install -r bench/requirements.txt)
    .venv/bin/python -m bench.load --scenarios sqlite-1 --journey-seconds 10

For each scenario (database and number of workers) it measures, on the same server:
the ceiling of a bare Litestar route and of a Jinja page without database; complete journeys
at the highest rate the closed loop reaches; the same journeys at half that rate (latency);
and a burst of form submissions from already verified browsers (the submission endpoint).
Every count and duration is bounded; every request goes to 127.0.0.1. Results: JSON and
Markdown under bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import journey as steps
from bench.client import Browser
from bench.report import markdown, summarise_profile
from bench.servers import BENCH_DIR, Server, run_postgres_reset, start_server

RESULTS = BENCH_DIR / "results"
MAX_JOURNEYS = 20_000
"""Hard bound on journeys per phase, whatever the durations say."""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_ms(values: list[float]) -> dict[str, float]:
    return {f"p{q}": round(percentile(values, q) * 1000, 2) for q in (50, 95, 99)} | {
        "max": round(max(values, default=0) * 1000, 2)
    }


@dataclass
class Meter:
    """CPU seconds of the server's workers and of this driver over one phase."""

    server: Server
    started: float = 0.0
    server_cpu: float = 0.0
    driver_cpu: float = 0.0

    def __enter__(self) -> Meter:
        self.started = time.perf_counter()
        self.server_cpu = self.server.cpu()
        times = os.times()
        self.driver_cpu = times.user + times.system
        return self

    def __exit__(self, *_: object) -> None:
        self.elapsed = time.perf_counter() - self.started
        times = os.times()
        self.driver_cpu = times.user + times.system - self.driver_cpu
        self.server_cpu = self.server.cpu() - self.server_cpu

    def figures(self) -> dict[str, float]:
        return {
            "seconds": round(self.elapsed, 2),
            "server_cpu_cores": round(self.server_cpu / self.elapsed, 2),
            "driver_cpu_cores": round(self.driver_cpu / self.elapsed, 2),
        }


async def ceiling(
    server: Server, path: str, seconds: float, users: int, hosts: Sequence[str] = ()
) -> dict[str, Any]:
    """Browsers asking for ``path`` back to back on keep-alive connections; browser ``n`` sends
    ``hosts[n % len(hosts)]`` as its Host header when ``hosts`` are given (bench/offices.py)."""
    timings = steps.Timings()
    deadline = time.perf_counter() + seconds

    async def user(n: int) -> None:
        browser = Browser(server.port, steps.client_ip(n), hosts[n % len(hosts)] if hosts else "")
        try:
            while time.perf_counter() < deadline:
                response = await browser.get(path)
                if response.status != 200:
                    timings.fail(path, f"HTTP {response.status}")
                timings.add(path, response)
        except OSError as error:
            timings.fail(path, repr(error))
        finally:
            await browser.close()

    with Meter(server) as meter:
        await asyncio.gather(*(user(n) for n in range(users)))
    values = timings.all_seconds()
    return {
        "path": path,
        "requests": len(values),
        "requests_per_s": round(len(values) / meter.elapsed, 1),
        "latency_ms": latency_ms(values),
        "errors": sum(timings.errors.values()),
        **meter.figures(),
    }


def journey_figures(
    timings: steps.Timings, done: int, meter: Meter, offered_rate: float | None = None
) -> dict[str, Any]:
    values = timings.all_seconds()
    figures: dict[str, Any] = {
        "journeys": done,
        "journeys_per_s": round(done / meter.elapsed, 1),
        "requests": len(values),
        "requests_per_s": round(len(values) / meter.elapsed, 1),
        "latency_ms": latency_ms(values),
        "latency_ms_by_step": {step: latency_ms(v) for step, v in timings.seconds.items()},
        "errors": sum(timings.errors.values()),
        "filed": timings.filed,
        "errors_by_step": dict(timings.errors),
        "error_samples": timings.error_samples,
        **meter.figures(),
    }
    if offered_rate is not None:
        figures["offered_journeys_per_s"] = round(offered_rate, 1)
    return figures


async def journeys_closed(
    server: Server,
    outbox: steps.Outbox,
    seconds: float,
    users: int,
    first: int,
    host: str = "",
) -> tuple[dict[str, Any], int]:
    """``users`` citizens, each starting a new journey as soon as the last one ends (at the
    office answering on ``host``, bench/offices.py; empty: 127.0.0.1)."""
    timings = steps.Timings()
    deadline = time.perf_counter() + seconds
    counter = iter(range(first, first + MAX_JOURNEYS))
    done = 0

    async def user() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            n = next(counter, None)
            if n is None:
                return
            finished = await steps.journey(server.port, n, outbox, timings, host)
            done += finished

    with Meter(server) as meter:
        await asyncio.gather(*(user() for _ in range(users)))
    return journey_figures(timings, done, meter), first + MAX_JOURNEYS


async def journeys_open(
    server: Server, outbox: steps.Outbox, rate: float, seconds: float, first: int
) -> tuple[dict[str, Any], int]:
    """New journeys at a steady ``rate`` per second whatever the server does (open loop)."""
    timings = steps.Timings()
    total = min(MAX_JOURNEYS, max(1, int(rate * seconds)))
    done = 0
    tasks = []

    async def one(n: int) -> None:
        nonlocal done
        finished = await steps.journey(server.port, n, outbox, timings)
        done += finished

    with Meter(server) as meter:
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(first + i)))
        await asyncio.gather(*tasks)
    return journey_figures(timings, done, meter, offered_rate=rate), first + total


async def submissions(
    server: Server,
    outbox: steps.Outbox,
    count: int,
    users: int,
    first: int,
    profiler: Profiler,
) -> tuple[dict[str, Any], int]:
    """``count`` browsers verify their phones, then all send their forms at once."""
    prepared: list[tuple[Browser, str, str]] = []
    setup = steps.Timings()
    numbers = iter(range(first, first + count))

    async def prepare() -> None:
        for n in numbers:
            browser = Browser(server.port, steps.client_ip(n))
            try:
                csrf, key = await steps.verified_form(browser, steps.phone_number(n), outbox, setup)
            except (steps.JourneyError, OSError) as error:
                setup.fail("prepare", str(error))
                await browser.close()
                continue
            await browser.close()  # a citizen comes back to the form later, on a new socket
            prepared.append((browser, csrf, key))

    await asyncio.gather(*(prepare() for _ in range(users)))
    timings = steps.Timings()
    queue = iter(prepared)
    filed: list[str] = []

    async def send() -> None:
        for browser, csrf, key in queue:
            try:
                filed.append(await steps.submit(browser, csrf, key, timings))
            except steps.JourneyError as error:
                timings.fail("form_send", str(error))
            except OSError as error:
                timings.fail("connection", repr(error))
            finally:
                await browser.close()

    with profiler, Meter(server) as meter:
        await asyncio.gather(*(send() for _ in range(users)))
    values = timings.all_seconds()
    return {
        "profile": profiler.summary(),
        "prepared": len(prepared),
        "prepare_errors": sum(setup.errors.values()),
        "submissions": len(filed),
        "filed": len(filed),
        "submissions_per_s": round(len(filed) / meter.elapsed, 1),
        "latency_ms": latency_ms(values),
        "errors": sum(timings.errors.values()),
        "error_samples": timings.error_samples + setup.error_samples,
        **meter.figures(),
    }, first + count


def count_requests(database_url: str) -> int:
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM citizen_request").fetchone()[0])

    async def count() -> int:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            return int(await connection.fetchval("SELECT COUNT(*) FROM citizen_request"))
        finally:
            await connection.close()

    return asyncio.run(count())


class Profiler:
    """py-spy on one worker for the length of a ``with`` block (raw collapsed stacks)."""

    def __init__(self, pid: int | None, out: Path) -> None:
        self.pid = pid
        self.out = out
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profiler:
        spy = Path(sys.executable).with_name("py-spy")
        if self.pid is None:
            return self
        if not spy.exists():
            print(
                "  (py-spy not installed: pip install -r bench/requirements.txt)", file=sys.stderr
            )
            return self
        command = [str(spy), "record", "--pid", str(self.pid), "--duration", "300"]
        # --gil: only the thread holding the GIL, i.e. where the worker's Python CPU goes.
        command += ["--rate", "97", "--gil", "--format", "raw", "--output", str(self.out)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(0.5)  # attached before the load starts
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes what it has and exits
            self.process.wait(timeout=60)

    def summary(self) -> dict[str, Any] | None:
        return summarise_profile(self.out) if self.process is not None else None


async def run_scenario(
    server: Server, outbox: steps.Outbox, args: argparse.Namespace, name: str
) -> dict[str, Any]:
    users = args.users * server.workers
    n = 0
    print(f"  warm-up ({args.warmup_seconds:.0f} s)", file=sys.stderr)
    warmup, n = await journeys_closed(server, outbox, args.warmup_seconds, users, n)
    result: dict[str, Any] = {"workers": server.workers, "users": users}
    print("  ceilings", file=sys.stderr)
    result["ceiling_bare"] = await ceiling(server, "/_bench/bare", args.ceiling_seconds, users)
    result["ceiling_jinja"] = await ceiling(server, "/_bench/jinja", args.ceiling_seconds, users)
    print(f"  journeys, closed loop ({args.journey_seconds:.0f} s)", file=sys.stderr)
    profiled = server.worker_pids[0] if args.profile else None
    with Profiler(profiled, RESULTS / f"profile-{name}-journeys.txt") as spy:
        result["journeys_max"], n = await journeys_closed(
            server, outbox, args.journey_seconds, users, n
        )
    result["profile"] = spy.summary()
    half = max(1.0, result["journeys_max"]["journeys_per_s"] / 2)
    print(f"  journeys at half rate ({half:.1f}/s)", file=sys.stderr)
    result["journeys_half_rate"], n = await journeys_open(
        server, outbox, half, args.journey_seconds, n
    )
    print(f"  submissions burst ({args.submissions})", file=sys.stderr)
    result["submissions"], n = await submissions(
        server,
        outbox,
        args.submissions,
        users,
        n,
        Profiler(profiled, RESULTS / f"profile-{name}-submissions.txt"),
    )
    phases = (warmup, result["journeys_max"], result["journeys_half_rate"], result["submissions"])
    result["filed_answers"] = sum(phase["filed"] for phase in phases)
    result["peak_rss_mb_per_worker"] = server.peak_rss()
    return result


async def _scenario_then_close(
    server: Server, outbox: steps.Outbox, args: argparse.Namespace, name: str
) -> dict[str, Any]:
    try:
        return await run_scenario(server, outbox, args, name)
    finally:
        await outbox.close()  # in the loop its connections belong to


def scenario_database(kind: str, tmp: Path, pg_url: str | None) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    if pg_url is None:
        raise RuntimeError("no PostgreSQL: run through bench/run (it starts a throwaway one)")
    run_postgres_reset(pg_url)
    return pg_url


def run(args: argparse.Namespace) -> dict[str, Any]:
    pg_url = os.environ.get("PORTAL_BENCH_DATABASE_URL") or os.environ.get(
        "PORTAL_TEST_DATABASE_URL"
    )
    report: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "label": args.label,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
            "load_average_at_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "settings": {
            key: getattr(args, key)
            for key in (
                "users",
                "warmup_seconds",
                "ceiling_seconds",
                "journey_seconds",
                "submissions",
            )
        },
        "scenarios": {},
    }
    for name in args.scenarios.split(","):
        kind, workers = name.split("-")
        if kind == "pg" and pg_url is None:
            print(f"{name}: skipped (no PostgreSQL; bench/run starts one)", file=sys.stderr)
            report["scenarios"][name] = {"skipped": "no PostgreSQL"}
            continue
        print(f"{name}: starting the portal", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
            tmp = Path(folder)
            database_url = scenario_database(kind, tmp, pg_url)
            server = start_server(
                database_url=database_url,
                workers=int(workers),
                data_dir=tmp,
                portal_root=args.portal_root,
            )
            outbox: steps.Outbox = (
                steps.SqliteOutbox(database_url.removeprefix("sqlite:///"))
                if kind == "sqlite"
                else steps.PostgresOutbox(database_url)
            )
            try:
                result = asyncio.run(_scenario_then_close(server, outbox, args, name))
            finally:
                server.stop()
            result["requests_in_database"] = count_requests(database_url)
            report["scenarios"][name] = result
            print(f"{name}: done", file=sys.stderr)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="sqlite-1,pg-1,pg-2")
    parser.add_argument("--users", type=int, default=32, help="concurrent browsers per worker")
    parser.add_argument("--warmup-seconds", type=float, default=3)
    parser.add_argument("--ceiling-seconds", type=float, default=6)
    parser.add_argument("--journey-seconds", type=float, default=15)
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="py-spy the first worker")
    parser.add_argument("--portal-root", type=Path, help="measure the portal in this checkout")
    parser.add_argument("--label", default="", help="a name for this run in the results")
    parser.add_argument("--output", default="latest", help="results file name, no extension")
    args = parser.parse_args(argv)
    if args.submissions > MAX_JOURNEYS:
        parser.error(f"--submissions is bounded at {MAX_JOURNEYS}")

    report = run(args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
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
