"""What a ``portal`` command needs to work on the database: a run with a pool that is closed
afterwards, and the office a ``--office SLUG`` names (the default office when none is given)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from portal.kernel.offices import OfficeDirectory, OfficeRef
from portal.settings import Settings
from portal.tables.office import DEFAULT_OFFICE_ID

T = TypeVar("T")


class UnknownOffice(LookupError):
    """``--office`` names no office."""


def run_with_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        from portal.db import close_pool, configure_database

        configure_database(settings.database_url)
        try:
            return await work()
        finally:
            await close_pool()

    return asyncio.run(go())


async def office_named(settings: Settings, slug: str | None) -> OfficeRef:
    """The office ``--office`` names; None: the default office (the one-office deployment)."""
    directory = OfficeDirectory(settings)
    office = (
        await directory.by_id(DEFAULT_OFFICE_ID)
        if slug is None
        else await directory.by_slug(slug.strip().lower())
    )
    if office is None:
        raise UnknownOffice(slug or "default")
    return office


def add_office_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--office",
        metavar="SLUG",
        default=None,
        help=f"the office whose {what} (default: the default office)",
    )
