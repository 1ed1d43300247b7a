"""The directory ``portal serve`` workers share their HTTP metrics through.

prometheus-client chooses its multiprocess mode when its first metric is made, from
``PROMETHEUS_MULTIPROC_DIR``; so ``portal serve`` calls ``prepare_multiprocess_dir`` before
anything makes one, and this module imports nothing of prometheus-client. Each worker then
writes its counts to files of its own there, and a scrape of any worker adds them all up.
"""

from __future__ import annotations

import os
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(data_dir: Path) -> Path:
    """``<data dir>/metrics`` (or an operator's own ``PROMETHEUS_MULTIPROC_DIR``), emptied of
    an earlier run's files: counts start again with each ``portal serve``, as Prometheus
    expects of a restarted target."""
    directory = Path(os.environ.get(MULTIPROC_ENV) or data_dir / "metrics")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory
