from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index SMS rows by request (each success page asks whether its receipt waits)"


async def index_sms_by_request() -> None:
    """``sms_message.request`` had no index: the success page's "is my receipt held back?"
    read every SMS row of the office (bench/offices.py: 52 ms at an office of 20,000 requests).
    The index is plain SQL, not a column flag, so Piccolo's own schema is unchanged."""
    engine = engine_finder()
    await engine.run_ddl(
        "CREATE INDEX IF NOT EXISTS sms_message_request ON sms_message (request)"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_raw(index_sms_by_request)
    return manager
