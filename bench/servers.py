"""Start and watch the portal under test: a fresh database, uvicorn on 127.0.0.1, its workers.

The server is started the way ``portal serve`` starts it (migrations and the default catalogue
first, then uvicorn with the app factory, proxy headers trusted from 127.0.0.1 only, access log
on), with the benchmark-only factory ``bench/server/ceiling_app.py`` in place of the portal's.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WORKER_HEADER = "x-portal-worker"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def reset_postgres(url: str) -> None:
    """Empty the benchmark's PostgreSQL database (a throwaway one: see bench/run)."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Server:
    database: str
    workers: int
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    worker_pids: list[int] = field(default_factory=list)

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.worker_pids)

    def peak_rss(self) -> list[float]:
        return [round(peak_rss_mb(pid), 1) for pid in self.worker_pids]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def server_env(
    database_url: str, data_dir: Path, port: int, portal_root: Path | None
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PORTAL_") or key == "PORTAL_TEST_DATABASE_URL"
    }
    paths = [str(BENCH_DIR / "server")]
    if portal_root is not None:
        paths.insert(0, str(portal_root))  # measure another checkout of the portal
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(paths),
            "PORTAL_ENV": "development",  # the outbox backend: SMS are read, not sent
            "PORTAL_DATA_DIR": str(data_dir),
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
            "PORTAL_SECRET_KEY": "benchmark-secret-key-that-is-long-enough-0123456789",
            # Limits stay on; the benchmark raises the operator's settings for its load. Each
            # citizen has its own phone and its own address, so per-phone limits never bite.
            "PORTAL_OTP_IP_HOURLY_LIMIT": "1000",
            "PORTAL_SMS_DAILY_LIMIT": "10000000",
            "PORTAL_FORWARDED_ALLOW_IPS": "127.0.0.1",
        }
    )
    return env


def start_server(
    *,
    database_url: str,
    workers: int,
    data_dir: Path,
    portal_root: Path | None = None,
    startup_timeout: float = 120,
    before_start: Callable[[], object] | None = None,
) -> Server:
    """Prepare the database as ``portal serve`` does, run ``before_start`` (bench/offices.py
    fills the database there), then start uvicorn and wait until every worker answers."""
    port = free_port()
    env = server_env(database_url, data_dir, port, portal_root)
    prepare = (
        "import asyncio; from portal.cli.serve import _prepare; from portal.settings import "
        "load_settings; asyncio.run(_prepare(load_settings(), seed=True))"
    )
    subprocess.run([sys.executable, "-c", prepare], env=env, check=True, timeout=300)
    if before_start is not None:
        before_start()
    log_path = data_dir / "server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "ceiling_app:create_bench_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--proxy-headers",
        "--forwarded-allow-ips",
        "127.0.0.1",
        "--log-level",
        "info",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data_dir
        )
    server = Server(database_url, workers, port, data_dir, process, log_path)
    deadline = time.monotonic() + startup_timeout
    tags: set[str] = set()
    while len(tags) < workers:
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"server did not start:\n{log_path.read_text()[-3000:]}")
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                answer = client.get("/_bench/bare")
                if answer.status_code == 200:
                    tags.add(answer.headers.get(WORKER_HEADER, "(no tag)"))
        except httpx.HTTPError:
            time.sleep(0.2)
    server.worker_pids = [process.pid] if workers == 1 else _children(process.pid)
    return server


def run_postgres_reset(url: str) -> None:
    asyncio.run(reset_postgres(url))
