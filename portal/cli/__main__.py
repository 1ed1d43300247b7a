"""``python -m portal.cli`` (the tests and benchmarks start the portal this way)."""

import sys

from portal.cli import main

sys.exit(main())
