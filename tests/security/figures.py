"""Figures the security suite counts as it runs, for SECURITY.md.

    .venv/bin/python -m tests.security.figures     # the last runs' figures as Markdown

Tests add to named counters (codes guessed, limits hit, cases fuzzed, faults injected, SMS
sent twice...); ``tests/security/conftest.py`` writes them at the end of the run to
``artifacts/security-figures-<database>.json``, so SECURITY.md quotes a real run, not a guess.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


class Figures:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()  # load and fault tests count from many threads

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def write(self, outcomes: dict[str, int], *, whole_suite: bool) -> Path | None:
        """Write the run's figures; nothing when no security test ran. A run of only part
        of the suite goes to a ``-partial`` file, so it never stands in for a whole run."""
        figures = self.snapshot()
        if not figures and not outcomes:
            return None
        url = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
        database = "postgresql" if url.startswith("postgres") else "sqlite"
        try:
            commit = subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (git on PATH)
                capture_output=True,
                text=True,
                check=False,
                timeout=10,
            ).stdout.strip()
        except OSError:
            commit = ""
        ARTIFACTS.mkdir(exist_ok=True)
        partial = "" if whole_suite else "-partial"
        path = ARTIFACTS / f"security-figures-{database}{partial}.json"
        path.write_text(
            json.dumps(
                {
                    "database": database,
                    "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "commit": commit,
                    "command": " ".join(["pytest", *sys.argv[1:]]),
                    "python": platform.python_version(),
                    "tests": outcomes,
                    "figures": figures,
                },
                indent=2,
            )
            + "\n"
        )
        return path


FIGURES = Figures()


def _load(database: str) -> dict[str, Any] | None:
    path = ARTIFACTS / f"security-figures-{database}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _sum(figures: dict[str, int], prefix: str, suffix: str = "") -> int:
    return sum(v for k, v in figures.items() if k.startswith(prefix) and k.endswith(suffix))


def _status(figures: dict[str, int], module: str, status: str) -> int:
    return figures.get(f"http_answers.{module}.{status}", 0)


ROWS: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    (
        "tests passed / failed / skipped",
        lambda r: "{} / {} / {}".format(
            *(
                sum(v for k, v in r["tests"].items() if k.endswith(o))
                for o in (".passed", ".failed", ".skipped")
            )
        ),
    ),
    (
        "HTTP requests sent by the suite's httpx clients (the load test counts its own)",
        lambda r: _sum(r["figures"], "http_answers.", ".total"),
    ),
    (
        "OTP and SMS abuse attempts (requests in test_otp_abuse)",
        lambda r: _status(r["figures"], "test_otp_abuse", "total"),
    ),
    ("limits hit: 429 answers", lambda r: _sum(r["figures"], "http_answers.", ".429")),
    (
        "CSRF attempts refused: 403 in test_csrf",
        lambda r: _status(r["figures"], "test_csrf", "403"),
    ),
    (
        "IDOR attempts (requests in test_idor), answered 404 / 403 / 303 to sign-in",
        lambda r: "{} ({} / {} / {})".format(
            _status(r["figures"], "test_idor", "total"),
            _status(r["figures"], "test_idor", "404"),
            _status(r["figures"], "test_idor", "403"),
            _status(r["figures"], "test_idor", "303"),
        ),
    ),
    (
        "cases fuzzed (hypothesis and schemathesis examples)",
        lambda r: _sum(r["figures"], "cases_fuzzed."),
    ),
    (
        "500 answers not deliberately provoked",
        lambda r: (
            _sum(r["figures"], "http_answers.", ".500") - r["figures"].get("deliberate_500", 0)
        ),
    ),
    ("faults injected", lambda r: r["figures"].get("faults_injected", 0)),
    (
        "503 + Retry-After (Thai page) answers in the database fault tests",
        lambda r: (
            _status(r["figures"], "test_faults", "503")
            + _status(r["figures"], "test_database_faults", "503")
        ),
    ),
    (
        "503 after PostgreSQL came back (pool reconnect)",
        lambda r: r["figures"].get("answers_503_after_restart", "-"),
    ),
    (
        "submissions lost after SIGKILL of portal serve",
        lambda r: "{} of {}".format(
            r["figures"].get("submissions_lost", "-"),
            r["figures"].get("submissions_in_kill_burst", "-"),
        ),
    ),
    (
        "SMS owed / lost after SIGKILL of the SMS worker",
        lambda r: "{} / {}".format(
            r["figures"].get("sms_owed_in_kill_test", "-"), r["figures"].get("sms_lost", "-")
        ),
    ),
    (
        "SMS sent twice at the gateway (at-least-once; same id, gateway drops the repeat)",
        lambda r: r["figures"].get("sms_sent_twice_at_gateway", "-"),
    ),
    (
        "load: citizens x seconds",
        lambda r: "{} x {} s".format(
            r["figures"].get("load_citizens", "-"), r["figures"].get("load_seconds", "-")
        ),
    ),
    (
        "load: journeys / requests",
        lambda r: "{} / {}".format(
            r["figures"].get("load_journeys", "-"), r["figures"].get("load_requests", "-")
        ),
    ),
    (
        "load: 5xx / failed journeys",
        lambda r: "{} / {}".format(
            r["figures"].get("load_5xx", "-"), r["figures"].get("load_failed_journeys", "-")
        ),
    ),
]


def markdown() -> str:
    """The figures of the last SQLite and PostgreSQL runs as a Markdown table."""
    runs = {db: _load(db) for db in ("sqlite", "postgresql")}
    present = {db: run for db, run in runs.items() if run is not None}
    lines = [
        "| | "
        + " | ".join(
            f"{db} ({run['commit']}, {run['finished_at'][:10]})" for db, run in present.items()
        )
        + " |",
        "| --- |" + " --- |" * len(present),
    ]
    for label, value in ROWS:
        lines.append(
            f"| {label} | " + " | ".join(str(value(run)) for run in present.values()) + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
