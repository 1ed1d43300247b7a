from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from portal.tables.office_migration import enable_row_security

ID = "2026-12-03T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL row-level security: each office sees only its own rows"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_raw(enable_row_security)
    return manager
