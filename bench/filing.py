"""The filing path alone, in one process, no HTTP: how fast the database layer files requests.

    .venv/bin/python -m bench.filing 2000 32     # filings, concurrent tasks (fresh SQLite file)
    cd /tmp && PYTHONPATH=/other/checkout ~/main/.venv/bin/python ~/main/bench/filing.py 2000 32

Measures ``portal.citizen.service.file_request`` (the request, its first event and its SMS in
one transaction) on a new SQLite file: filings/s, CPU, p50/p99.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import tempfile
import time


async def main(count: int, concurrency: int) -> None:
    from portal.catalogue.service import get_active_service, seed_default_services
    from portal.citizen.service import file_request
    from portal.db import close_pool, configure_database, migrate, start_pool
    from portal.kernel.offices import OfficeRef
    from portal.sms.outbox import SmsConfig
    from portal.tables.office import DEFAULT_OFFICE_ID

    folder = tempfile.mkdtemp(prefix="portal-filing-")
    configure_database(f"sqlite:///{folder}/filing.sqlite3")
    await migrate()
    await seed_default_services()
    await start_pool()
    office = OfficeRef(
        id=DEFAULT_OFFICE_ID,
        slug="default",
        name="",
        base_url="http://127.0.0.1",
        sms_link_base="http://127.0.0.1",
    )
    service = await get_active_service("general-request", office=office)
    assert service is not None
    answers = {"title": "นาง", "first_name": "ก", "last_name": "ข", "address": "ค"}
    answers |= {"subject": "ง", "details": "จ"}
    keys = iter([secrets.token_urlsafe(24) for _ in range(min(count, 50_000))])
    seconds: list[float] = []

    async def worker() -> None:
        for key in keys:
            started = time.perf_counter()
            await file_request(
                service=service,
                phone="+66800100001",
                answers=answers,
                submission_key=key,
                sms=SmsConfig("OSS-LOCAL", "outbox"),
                office=office,
            )
            seconds.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    seconds.sort()
    print(
        f"{len(seconds) / elapsed:.0f} filings/s, {cpu / elapsed:.2f} CPU cores, "
        f"p50 {seconds[len(seconds) // 2] * 1000:.1f} ms, "
        f"p99 {seconds[int(len(seconds) * 0.99)] * 1000:.1f} ms"
    )
    await close_pool()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
