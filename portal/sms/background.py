"""Running the dispatcher: inside ``portal serve`` (app lifespan) or as ``portal sms worker``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

import httpx

from portal.kernel.offices import OfficeDirectory
from portal.settings import Settings
from portal.sms.dispatcher import Dispatcher, SmsTiming
from portal.sms.providers import build_fallback, build_provider
from portal.sms.providers.base import http_timeout

logger = logging.getLogger("portal.sms")


def http_client(timing: SmsTiming) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=http_timeout(timing.connect_timeout, timing.read_timeout),
        follow_redirects=False,
        headers={"User-Agent": "oss-local-portal"},
    )


class BackgroundDispatcher:
    """A dispatcher as a task of the app's event loop, from startup to shutdown.

    Several of these (uvicorn workers, ``portal sms worker`` processes) may run at once: the
    claims in ``portal/sms/queue.py`` give each message to one of them.
    """

    def __init__(self, settings: Settings, timing: SmsTiming | None = None) -> None:
        self.settings = settings
        self.timing = timing or SmsTiming()
        self._client: httpx.AsyncClient | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._client = http_client(self.timing)
        dispatcher = Dispatcher(
            build_provider(self.settings, self._client),
            self.timing,
            offices=OfficeDirectory(self.settings),
            platform_limit=self.settings.sms_platform_daily_budget,
            fallback=build_fallback(self.settings, self._client),
        )
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(dispatcher.run(self._stop), name="sms-dispatcher")
        logger.info(
            "SMS dispatcher started (%s, fallback: %s)",
            self.settings.sms_backend,
            self.settings.sms_fallback_backend or "none",
        )

    async def stop(self) -> None:
        """Let a send in flight finish (bounded by its deadline), then close the client."""
        self._stop.set()
        if self._task is not None:
            grace = self.timing.send_deadline + 2
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def run_worker(
    settings: Settings, timing: SmsTiming | None = None, *, once: bool = False
) -> int:
    """``portal sms worker``: send until SIGINT/SIGTERM (or, with ``once``, until idle)."""
    from portal.db import close_pool, start_pool

    timing = timing or SmsTiming()
    await start_pool()
    try:
        async with http_client(timing) as client:
            dispatcher = Dispatcher(
                build_provider(settings, client),
                timing,
                offices=OfficeDirectory(settings),
                platform_limit=settings.sms_platform_daily_budget,
                fallback=build_fallback(settings, client),
            )
            if once:
                return await dispatcher.run_until_idle()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            logger.info(
                "SMS worker sending through %s (fallback: %s)",
                settings.sms_backend,
                settings.sms_fallback_backend or "none",
            )
            await dispatcher.run(stop)
            return 0
    finally:
        await close_pool()


LifespanHook = Callable[[], Awaitable[None]]


def dispatcher_hooks(
    settings: Settings, timing: SmsTiming | None = None
) -> tuple[list[LifespanHook], list[LifespanHook]]:
    """Startup and shutdown hooks for the app: a dispatcher in every ``portal serve`` process,
    unless the backend is ``outbox`` (nothing to send) or PORTAL_SMS_DISPATCH=worker."""
    if settings.sms_backend == "outbox" or settings.sms_dispatch != "serve":
        return [], []
    background = BackgroundDispatcher(settings, timing)
    return [background.start], [background.stop]
