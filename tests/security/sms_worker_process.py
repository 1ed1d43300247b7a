"""``portal sms worker`` with a short lease, as its own process, for the SIGKILL test.

    python -m tests.security.sms_worker_process LEASE_SECONDS

The same ``run_worker`` the ``portal sms worker`` command runs (settings from the environment,
its own pool); only the timing differs, so that messages a killed worker had claimed come
back after a few seconds instead of the production lease of a minute.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from portal.db import configure_database
from portal.db_engines import PoolSize
from portal.settings import load_settings
from portal.sms.background import run_worker
from portal.sms.dispatcher import SmsTiming


def main(lease_seconds: float) -> int:
    settings = load_settings()
    configure_database(settings.database_url, PoolSize(1, 5))
    timing = SmsTiming(
        connect_timeout=1.0,
        read_timeout=2.0,
        poll_interval=0.05,
        backoff_base=0.1,
        backoff_cap=0.5,
        lease=timedelta(seconds=lease_seconds),
    )
    return asyncio.run(run_worker(settings, timing))


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1])))
