"""Run-wide pytest settings for both ``tests/`` and ``e2e/``."""

from __future__ import annotations

import os

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With PORTAL_FAIL_ON_SKIP=1 (the PostgreSQL run in CI) a skipped test fails the run:
    a database run that quietly skips is no run at all."""
    if os.environ.get("PORTAL_FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(f"PORTAL_FAIL_ON_SKIP: {len(skipped)} test(s) skipped", red=True)
