"""Security tests share the back-office set-up of ``tests/staff/conftest.py`` (staff tables
emptied per test, one fixed clock for sign-in, the audit log and enrolment), imported from there.

They also count what they do for SECURITY.md (``tests/security/figures.py``): every HTTP answer
by test module and status (attempts tried, limits hit, 5xx seen), every case hypothesis ran
(cases fuzzed) and the figures fault tests add; written when the run ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis.internal.observability import (
    add_observability_callback,
    remove_observability_callback,
)

from tests.security.figures import FIGURES
from tests.staff.conftest import clock, staff_tables

__all__ = ["clock", "staff_tables"]

_current_module = ["(none)"]
_outcomes: Counter[str] = Counter()


def _count_answer(response: httpx.Response) -> None:
    module = _current_module[0]
    FIGURES.add(f"http_answers.{module}.total")
    FIGURES.add(f"http_answers.{module}.{response.status_code}")


def _count_case(observation: Any, _thread: int) -> None:
    if getattr(observation, "type", None) == "test_case":
        FIGURES.add(f"cases_fuzzed.{_current_module[0]}")


def _runs_whole_suite(config: pytest.Config) -> bool:
    """True when the run was asked for a folder holding all of tests/security (or for no
    paths at all), without a ``-k`` filter: not for some of its files or tests."""
    if config.option.keyword:
        return False
    here = Path(__file__).resolve().parent
    folders = [Path(arg).resolve() for arg in config.args if "::" not in arg]
    return not config.args or any(path == here or path in here.parents for path in folders)


@pytest.fixture(scope="session", autouse=True)
def security_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    """Count every answer the suite's browsers get and every hypothesis case, then write the
    run's figures (``artifacts/security-figures-<database>.json``)."""
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

    def send(self: httpx.Client, *args: Any, **kwargs: Any) -> httpx.Response:
        response = sync_send(self, *args, **kwargs)
        _count_answer(response)
        return response

    async def asend(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> httpx.Response:
        response = await async_send(self, *args, **kwargs)
        _count_answer(response)
        return response

    httpx.Client.send = send  # type: ignore[method-assign]
    httpx.AsyncClient.send = asend  # type: ignore[method-assign]
    add_observability_callback(_count_case, all_threads=True)
    try:
        yield
    finally:
        remove_observability_callback(_count_case)
        httpx.Client.send = sync_send  # type: ignore[method-assign]
        httpx.AsyncClient.send = async_send  # type: ignore[method-assign]
        FIGURES.write(dict(_outcomes), whole_suite=_runs_whole_suite(request.config))


@pytest.fixture(autouse=True)
def _name_the_module(request: pytest.FixtureRequest) -> None:
    _current_module[0] = request.node.module.__name__.rsplit(".", 1)[-1]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _outcomes[f"{item.module.__name__.rsplit('.', 1)[-1]}.{report.outcome}"] += 1  # type: ignore[attr-defined]
